import TernMessage

extension OfflineStore {
    /// Checks the whole store, in three passes, and reports every problem with the offset it concerns:
    /// 1. Log: walks the log with CRC checks as recovery and rebuild-index do (`CommitLog.walkAcrossDamage`):
    ///    each damaged range in the middle is a problem (those records are lost), and so is a torn tail.
    /// 2. Log → index: each record below the checkpoint must be reachable: a consumable one (transaction type
    ///    NOT or COMMIT) through its queue's entry at its queue offset (unless retention dropped it: below the
    ///    queue's min), and each KEYS / UNIQ_KEY value through the key index. Records at or past the checkpoint
    ///    are the unindexed tail that recovery will dispatch, not a problem.
    /// 3. Index → log: every queue is dense from min to max and each entry matches the record it points at
    ///    (as `Dispatcher.derive` would write it); the checkpoint lies within the valid log.
    /// Without an index only pass 1 runs. Cost: one CRC pass over the log plus one index read per record and
    /// per entry.
    public func verify(maxProblems: Int = 1_000, progress: (RebuildProgress) -> Void = { _ in }) throws -> VerifyReport {
        var run = VerifyRun(log: log, index: index, maxProblems: maxProblems)
        try run.loadIndexState()
        var damaged: [DamagedRange] = []
        // Progress of the log walk (pass 1, the long one), about every second.
        var meter = ProgressMeter(end: dataEnd().end, every: .max, interval: .seconds(1))
        var records = 0
        let (validEnd, stop) = try log.walkAcrossDamage(from: log.minOffset, { offset, view in
            try run.checkRecordIsIndexed(offset, view)
            records += 1
            if let p = meter.tick(offset: offset, records: records) { progress(p) }
            return true
        }, damaged: { damaged.append($0) })
        run.checkDamage(damaged, stop: stop, validEnd: validEnd)
        try run.checkCheckpoint(validEnd: validEnd)
        try run.checkQueues()
        return run.report(segments: log.segments.count, validEnd: validEnd)
    }
}

/// The state of one `verify` run: counters, the problems found so far, and a small window of consume-queue
/// entries per queue so that pass 2 reads the index in chunks (records of a queue appear in queue order).
struct VerifyRun {
    let log: CommitLog
    let index: (any IndexStore)?
    let maxProblems: Int
    private(set) var problems: [VerifyProblem] = []
    private(set) var problemCount = 0
    private var checkpoint: DispatchCheckpoint? = nil
    /// Damage found by pass 1: a queue gap across one of these ranges is its lost records, not a problem.
    private var damaged: [DamagedRange] = []
    /// The config the index was built with: entries are compared with what it derives.
    private var derivation = DerivationConfig.default
    /// `derive`'s text buffer, reused record after record.
    private var scratch = DeriveScratch()
    private var ranges: [QueueKey: QueueRange] = [:]
    /// Entries read ahead per queue; bounded by `windowQueuesMax` × `windowEntries`.
    private var window: [QueueKey: [ConsumeQueueEntry]] = [:]
    private var records = 0, entriesChecked = 0, keysChecked = 0
    static let windowQueuesMax = 1_024, windowEntries = 128, entryChunk = 1_024
    /// Most key-index results read per lookup: enough for many records sharing one key in one millisecond.
    static let keyLookupLimit = 10_000

    init(log: CommitLog, index: (any IndexStore)?, maxProblems: Int) {
        self.log = log
        self.index = index
        self.maxProblems = max(0, maxProblems)
    }

    mutating func problem(_ offset: Int64, _ kind: VerifyProblem.Kind, _ message: String) {
        problemCount += 1
        if problems.count < maxProblems { problems.append(VerifyProblem(offset: offset, kind: kind, message: message)) }
    }

    mutating func loadIndexState() throws {
        guard let index else { return }
        checkpoint = try index.checkpoint()
        ranges = try index.queues()
        derivation = try index.derivation() ?? .default
    }

    func report(segments: Int, validEnd: Int64) -> VerifyReport {
        // Stable sort: problems at one offset keep the order the passes found them in.
        let sorted = problems.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }
        return VerifyReport(segmentsScanned: segments, recordsScanned: records, validEnd: validEnd,
                            checkpoint: checkpoint?.offset, entriesChecked: entriesChecked, keysChecked: keysChecked,
                            problemCount: problemCount, problems: sorted.map(\.element))
    }

    // MARK: Pass 1: the log

    /// Damage in the middle and a torn tail, each reported once: what recovery and rebuild-index lose.
    mutating func checkDamage(_ damaged: [DamagedRange], stop: CommitLog.WalkStop, validEnd: Int64) {
        self.damaged = damaged
        for d in damaged {
            problem(d.start, .damagedRange, "\(d); these records are lost: recovery and rebuild-index step over "
                + "them (the log is not truncated), reads never serve them")
        }
        if case let .invalid(error) = stop {
            problem(validEnd, .invalidRecord, LogStop.describe(error)
                + "; nothing valid follows: a torn tail, recovery truncates the log here")
        }
    }

    // MARK: Pass 2: log → index

    mutating func checkRecordIsIndexed(_ offset: Int64, _ view: RecordView) throws {
        records += 1
        guard let index, let checkpoint, offset < checkpoint.offset else { return }
        scratch.startBatch()
        let d = Dispatcher.derive(offset, view, derivation, &scratch)
        if let q = scratch.queue(of: d) { try checkEntryExists(q, d.entry) }
        let time = d.entry.storeTimestamp
        for key in d.keys(in: scratch.text) {
            keysChecked += 1
            let found = try index.lookupKey(topic: scratch.topic(d.topic), key: key, beginTimestamp: time, endTimestamp: time,
                                            limit: Self.keyLookupLimit)
            if !found.contains(offset) {
                problem(offset, .missingKey, "KEYS value \"\(key)\" of topic \(scratch.topic(d.topic)) is not in the key index")
            }
        }
        if let unique = d.uniqueKey(in: scratch.text) {
            keysChecked += 1
            if try !index.lookupUniqueKey(unique, limit: Self.keyLookupLimit).contains(offset) {
                problem(offset, .missingKey, "UNIQ_KEY \(unique) is not in the unique-key index")
            }
        }
    }

    private mutating func checkEntryExists(_ q: QueueKey, _ expected: ConsumeQueueEntry) throws {
        let offset = expected.physicalOffset, queueOffset = expected.queueOffset
        guard let range = ranges[q] else {
            return problem(offset, .missingEntry, "record of \(q) (queue offset \(queueOffset)) is below the "
                + "checkpoint but the index has no queue \(q)")
        }
        if queueOffset < range.min { return }  // retention dropped it
        guard queueOffset < range.max, let entry = try entry(q, queueOffset) else {
            return problem(offset, .missingEntry, "queue \(q) has no entry at offset \(queueOffset) for this record "
                + "(queue range \(range.min)..<\(range.max))")
        }
        if entry.physicalOffset != offset {
            problem(offset, .missingEntry,
                    "entry \(q)@\(queueOffset) points at \(entry.physicalOffset), not at this record")
        }
    }

    /// The entry of `q` at `queueOffset`, from the window or a fresh chunk starting there.
    private mutating func entry(_ q: QueueKey, _ queueOffset: Int64) throws -> ConsumeQueueEntry? {
        if let chunk = window[q], let first = chunk.first, queueOffset >= first.queueOffset,
           queueOffset - first.queueOffset < Int64(chunk.count) {
            let e = chunk[Int(queueOffset - first.queueOffset)]
            if e.queueOffset == queueOffset { return e }
        }
        guard let index else { return nil }
        if window.count >= Self.windowQueuesMax { window.removeAll(keepingCapacity: true) }
        let chunk = try index.entries(q, from: queueOffset, maxCount: Self.windowEntries)
        window[q] = chunk
        return chunk.first.flatMap { $0.queueOffset == queueOffset ? $0 : nil }
    }

    // MARK: Pass 3: index → log

    mutating func checkCheckpoint(validEnd: Int64) throws {
        guard let cp = checkpoint else { return }
        if cp.offset > validEnd {
            return problem(cp.offset, .checkpointBeyondValidEnd, "index checkpoint \(cp.offset) lies past the log's "
                + "valid end \(validEnd): entries past it point at records a rebuild would not see")
        }
        // Below the log's minimum retention removed the record; that is fine.
        guard cp.lastRecord >= log.minOffset else { return }
        guard let r = log.recordAnyPosition(at: cp.lastRecord, checkCRC: true),
              r.physicalOffset + Int64(r.size) <= cp.offset
        else {
            return problem(cp.lastRecord, .checkpointRecordInvalid, "the checkpoint's last record (\(cp.lastRecord), "
                + "checkpoint \(cp.offset)) is not a valid record ending at or below the checkpoint")
        }
    }

    mutating func checkQueues() throws {
        guard let index else { return }
        for (q, range) in ranges.sorted(by: { $0.key < $1.key }) {
            var expected = range.min
            var lastPhysical: Int64 = -1
            while expected < range.max {
                let chunk = try index.entries(q, from: expected, maxCount: Self.entryChunk)
                guard !chunk.isEmpty else { break }
                for e in chunk where e.queueOffset < range.max {
                    let lost = damaged.contains { $0.start > lastPhysical && $0.start < e.physicalOffset }
                    if e.queueOffset != expected && !lost {
                        problem(e.physicalOffset, .queueGap, "queue \(q) has no entries \(expected)..<\(e.queueOffset)")
                    }
                    checkEntry(q, e)
                    expected = e.queueOffset + 1
                    lastPhysical = e.physicalOffset
                }
            }
            if expected < range.max {
                problem(lastPhysical, .queueGap, "queue \(q) has no entries \(expected)..<\(range.max) (its max); "
                    + "offset is the last entry's target")
            }
        }
    }

    /// The entry must point at a valid record whose derived entry is exactly this one.
    private mutating func checkEntry(_ q: QueueKey, _ e: ConsumeQueueEntry) {
        entriesChecked += 1
        let at = "entry \(q)@\(e.queueOffset)"
        if let cp = checkpoint, e.physicalOffset >= cp.offset {
            problem(e.physicalOffset, .entryBeyondCheckpoint, "\(at) points at or past the checkpoint \(cp.offset)")
        }
        guard let m = log.recordAnyPosition(at: e.physicalOffset) else {
            return problem(e.physicalOffset, .entryTargetInvalid, "\(at) points where no valid record starts")
        }
        scratch.startBatch()
        let d = Dispatcher.derive(e.physicalOffset, m.record, derivation, &scratch)
        var differences: [String] = []
        func compare<T: Equatable>(_ name: String, record: T, entry: T) {
            if record != entry { differences.append("\(name): record \(record), entry \(entry)") }
        }
        compare("queue", record: scratch.queue(of: d).map { "\($0)" } ?? "none (not consumable)", entry: "\(q)")
        compare("queue offset", record: d.entry.queueOffset, entry: e.queueOffset)
        compare("size", record: d.entry.size, entry: e.size)
        compare("tag code", record: d.entry.tagCode, entry: e.tagCode)
        compare("store time", record: d.entry.storeTimestamp, entry: e.storeTimestamp)
        if !differences.isEmpty {
            problem(e.physicalOffset, .entryMismatch,
                    "\(at) disagrees with its record: " + differences.joined(separator: "; "))
        }
    }
}
