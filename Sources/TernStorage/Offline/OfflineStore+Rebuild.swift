import TernMessage

/// Where a rebuild is (passed to the progress callback).
public struct RebuildProgress: Sendable, Equatable {
    /// Next log offset to index.
    public var offset: Int64
    /// End of the last segment: an upper bound of the valid end, which is known only when the walk stops.
    public var end: Int64
    public var records: Int
    public var seconds: Double
    public var recordsPerSecond: Double
}

/// What `rebuildIndex` did.
public struct RebuildReport: Sendable, Codable, Equatable {
    public var records: Int
    public var batches: Int
    public var fromOffset: Int64
    /// The new checkpoint: end of the log's valid prefix.
    public var validEnd: Int64
    /// The torn tail the rebuild stopped at (an invalid record with nothing valid after it), when it did not
    /// reach clean end-of-data. The broker's recovery will truncate the log there (its replay starts at the
    /// checkpoint, which is this offset).
    public var invalidRecord: LogStop?
    /// Damage in the middle of the log, stepped over: these records are lost (not indexed, never served);
    /// the records after each range are indexed, and the broker keeps the log as it is.
    public var damagedRanges: [DamagedRange] = []
    public var queues: Int
    public var consumerOffsetsKept: Int
    public var seconds: Double
    public var recordsPerSecond: Double
}

extension OfflineStore {
    /// Deletes the derived state (queues, keys, transaction states, checkpoint; consumer offsets stay) and
    /// rebuilds it from the log: walks from the log's minimum with CRC checks, derives each record as the
    /// dispatcher does, and applies `batchSize` records per index transaction, checkpoint included, so an
    /// interrupted rebuild leaves a consistent prefix that the broker's recovery continues. Steps over damage in
    /// the middle of the log (reported in `damagedRanges`) and stops at a torn tail, exactly as recovery does. Calls `progress` about every `progressEvery` records or `progressInterval`, and at the end.
    /// Throws when the index refuses a batch (e.g. a queue-offset gap in a record whose header is corrupt but
    /// whose body CRC holds); the batches before it stay applied.
    /// Precondition: opened with `indexAccess == .readWrite`.
    public func rebuildIndex(batchSize: Int = 8_192, progressEvery: Int = 100_000,
                             progressInterval: Duration = .seconds(1),
                             progress: (RebuildProgress) -> Void = { _ in }) throws -> RebuildReport {
        precondition(batchSize > 0 && progressEvery > 0, "batch size and progress period must be positive")
        guard indexIsWritable, let index else {
            throw OfflineStoreError.invalidOption("rebuild-index needs the index opened writable (.readWrite)")
        }
        var meter = ProgressMeter(end: dataEnd().end, every: progressEvery,
                                  interval: progressInterval)
        // The config the index was built with (the broker's), not this tool's defaults.
        let derivation = try index.derivation() ?? .default
        try index.clearDerived()
        try index.recordDerivation(derivation)
        let from = log.minOffset
        let replay = Replay(log: log, index: index, derivation: derivation, batchLimit: batchSize, checkCRC: true)
        let out: Replay.Outcome
        do {
            out = try replay.run(from: DispatchCheckpoint(offset: from, lastRecord: -1)) { offset, records in
                if let p = meter.tick(offset: offset, records: records) { progress(p) }
            }
        } catch let error as ReplayBatchError {
            throw OfflineStoreError.store("rebuild-index failed: \(error); the index now covers the log below "
                + "\(error.range.lowerBound)")
        }
        let checkpoint = out.checkpoint, records = out.records, batches = out.batches, stop = out.stop
        try index.sync()
        let final = meter.snapshot(offset: checkpoint.offset, records: records)
        progress(final)
        var report = RebuildReport(
            records: records, batches: batches, fromOffset: from, validEnd: checkpoint.offset, invalidRecord: nil,
            queues: try index.queues().count, consumerOffsetsKept: try index.consumerOffsets().count,
            seconds: final.seconds, recordsPerSecond: final.recordsPerSecond)
        if case let .invalid(error) = stop { report.invalidRecord = LogStop(offset: checkpoint.offset, error) }
        report.damagedRanges = out.damaged
        return report
    }
}

/// Decides when a long walk reports progress: every `every` records or `interval`, whichever comes first.
/// Reads the clock only every 256 records.
struct ProgressMeter {
    let end: Int64
    let every: Int
    let interval: Duration
    let started = ContinuousClock.now
    private var lastTime = ContinuousClock.now
    private var lastRecords = 0

    init(end: Int64, every: Int, interval: Duration) {
        self.end = end
        self.every = every
        self.interval = interval
    }

    mutating func tick(offset: Int64, records: Int) -> RebuildProgress? {
        let due = records - lastRecords >= every
        guard due || records % 256 == 0 else { return nil }
        let now = ContinuousClock.now
        guard due || now - lastTime >= interval else { return nil }
        lastTime = now
        lastRecords = records
        return snapshot(offset: offset, records: records)
    }

    func snapshot(offset: Int64, records: Int) -> RebuildProgress {
        let seconds = Self.seconds(ContinuousClock.now - started)
        return RebuildProgress(offset: offset, end: end, records: records, seconds: seconds,
                               recordsPerSecond: seconds > 0 ? Double(records) / seconds : 0)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
