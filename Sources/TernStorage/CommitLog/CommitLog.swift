import Logging
import Synchronization
import TernMessage
import TernSystem

/// Where an append landed.
public struct AppendResult: Sendable, Equatable {
    public var physicalOffset: Int64
    public var size: Int
    /// Logical offset in the record's queue (0 for prepared / rolled-back transaction records).
    public var queueOffset: Int64
    public var storeTimestamp: Int64
    public var endOffset: Int64 { physicalOffset + Int64(size) }
}

/// The append-only log of records over fixed-size mapped segments.
///
/// Ownership: the writer state (current segment, write position, per-queue next offsets, last store time)
/// is touched only under `writer`'s lock. `published` is stored (release) after a record's bytes are complete
/// and loaded (acquire) by readers, so a reader never sees a partial record below it. `segments` is
/// append-only except for retention, which removes from the front.
final class CommitLog: Sendable {
    let directory: String
    let segmentSize: Int
    let maxRecordSize: Int
    let prefault: Bool
    /// Prefault into single-page page-cache folios (`MappedFile.prefault(_:singlePages:)`): set by the store in both
    /// flush modes, since any msync of the tail (a group commit every round, the async flush every interval)
    /// write-protects whole folios.
    let singlePagePrefault: Bool
    /// The prefault also writes the pages back (`MappedFile.writeAhead`): the file system converts a segment's
    /// reserved blocks before the writer's group commits reach them.
    let writeAhead: Bool
    /// Records are encoded into private memory and written into the segment with pwrite(2) before they are
    /// published, instead of stored through the mapping (see `CommitLog+WriteThrough.swift`).
    let writeThrough: Bool

    struct QueueSlotKey: Hashable {
        var topic: [UInt8]
        var queueId: Int32
        /// Hashes the topic as one block of bytes (the synthesized hash feeds them one at a time).
        func hash(into h: inout Hasher) {
            topic.withUnsafeBytes { h.combine(bytes: $0) }
            h.combine(queueId)
        }
    }

    /// The writer's state; see the type's ownership note.
    ///
    /// Queue offsets have ONE owner, `nextQueueOffset`: a leader assigns them here (`place`), a follower takes
    /// the leader's from each record it validates (`appendReplicated`), and nothing else assigns any. The
    /// index's per-queue max is derived from the records it applied and only checked against them (a gap is
    /// `StoreError.queueGap`): `index.max(q) <= nextQueueOffset[q]`, equal once the dispatcher has caught up
    /// with the write position. That is why the writer may be seeded from the index exactly when the index
    /// covers every record below the write position (recovery, truncation).
    ///
    ///     segment base ... position ........ received ........ segment end
    ///     [ published records | partial record (follower only) | zeros      ]
    ///
    /// Invariant on a follower: `position <= received`; they differ while it holds a record cut by a chunk.
    struct WriterState {
        var current: Segment?
        var position: Int64
        /// Follower: end of the bytes received from the leader, including an unpublished partial record
        /// (a leader does not move it: its end is `position`).
        var received: Int64 = 0
        var role: StoreRole = .leader
        var lastStoreTimestamp: Int64 = 0
        var nextQueueOffset: [QueueSlotKey: Int64] = [:]
        var requestedPrepare = false
        /// Write-through (`CommitLog+WriteThrough.swift`): the records placed since the last commit, staged from
        /// `stageStart` in the current segment; nil: records are encoded straight into the mapping. Empty whenever
        /// the writer lock is free.
        var stage: WriteStage? = nil
        var stageStart: Int64 = 0
        /// The descriptor the stage is written through, for the segment at `base`.
        var stageFile: (base: Int64, file: PositionalFile)? = nil
    }

    let writer: Mutex<WriterState>
    let segmentList: Mutex<[Segment]>
    /// Every byte below is part of a complete record or blank (readable).
    let published = Atomic<Int64>(0)
    /// `WriterState.role == .follower`, readable without the writer (see `role`).
    let isFollower = Atomic<Bool>(false)
    struct Preparation {
        /// Next segment made ready (created + prefaulted) ahead of the writer.
        var ready: Segment?
        /// The last preparation failure and when it happened (monotonic), cleared by a success.
        var failure: (error: StoreError, atNanos: UInt64)?
    }
    /// The next segment, built by `prepareNextSegment()` or by the writer (`preparedOrCreate`); held briefly.
    let preparation = Mutex(Preparation())
    /// The store's clock: times preparation retries (a manual clock in tests moves them without sleeping).
    private let clock: any TernClock
    /// Held while a segment file is built (allocation, mapping, prefault): one builder at a time.
    private let creation = Mutex(())
    /// The active segment is prefaulted up to here (see `prefaultAhead`).
    private let prefaultedUpTo = Mutex<Int64>(0)
    /// Base of the prepared segment `prefaultPreparedSegment` last faulted in (-1: none yet).
    private let preparedPrefaulted = Mutex<Int64>(-1)
    /// The active segment's pages below this offset have been unmapped (see `releaseActiveTail`).
    let activeReleasedUpTo = Mutex<Int64>(0)
    /// Segments below this offset have had their mapped pages released (see `releaseFlushedSegments`).
    let releasedBelow = Mutex<Int64>(0)
    /// The log's pages from here up are still in the page cache (see `dropCachedLog`). Starts where this process's
    /// writer starts (`seed`): older pages are an earlier process's, left to the kernel.
    let cacheDroppedBelow = Mutex<Int64>(.max)

    /// The lock file a store takes in a commit-log directory outside its root (`StoreConfig.commitLogLockPath`).
    static let lockFileName = "tern.lock"

    /// Opens the segments in `directory` (creating the directory). Checks names, sizes and contiguity; does
    /// not scan records (recovery does, then calls `resetWriter`). A short trailing segment file is repaired
    /// (see `SegmentRepair`) and leftover `<segment>.tmp` files of an interrupted preparation are removed.
    init(directory: String, segmentSize: Int, maxRecordSize: Int, prefault: Bool, singlePagePrefault: Bool = false,
         writeAhead: Bool = false, writeThrough: Bool = false, readOnly: Bool = false, clock: any TernClock = SystemClock(), logger: Logger = Logger(label: "tern.commitlog")) throws {
        self.clock = clock
        guard segmentSize >= 4096, maxRecordSize + 8 <= segmentSize else {
            throw StoreError.invalidConfig("segment size \(segmentSize) cannot hold a record of \(maxRecordSize) bytes "
                + "(maxMessageSize + 64 KiB) plus an 8-byte end-of-segment marker")
        }
        self.directory = directory
        self.segmentSize = segmentSize
        self.maxRecordSize = maxRecordSize
        self.prefault = prefault
        self.singlePagePrefault = singlePagePrefault
        self.writeAhead = writeAhead
        self.writeThrough = writeThrough
        if !readOnly { try FileSystem.createDirectory(directory) }
        var segs: [Segment] = []
        let names = try FileSystem.listDirectory(directory)
        let lastSegmentName = names.last { Segment.base(fromFileName: $0) != nil }
        for name in names where name != Self.lockFileName {
            let path = directory + "/" + name
            guard let base = Segment.base(fromFileName: name) else {
                if name.hasSuffix(".tmp") {
                    if !readOnly { try FileSystem.remove(path) }
                    continue
                }
                throw StoreError.badSegment(path: path, reason: "name is not a 20-digit offset")
            }
            var size = try FileSystem.fileSize(path)
            if size < segmentSize && name == lastSegmentName {
                switch try SegmentRepair.repairTrailing(path: path, size: size, segmentSize: segmentSize,
                                                        maxRecordSize: maxRecordSize, followsFullSegment: !segs.isEmpty,
                                                        readOnly: readOnly, logger: logger) {
                case .removed: continue
                case .extended: size = segmentSize
                case .keptShort: break
                }
            }
            guard size == segmentSize || readOnly && name == lastSegmentName && size < segmentSize else {
                throw StoreError.badSegment(path: path, reason: "size \(size) != configured segment size \(segmentSize)")
            }
            guard base % Int64(segmentSize) == 0 else {
                throw StoreError.badSegment(path: path, reason: "offset not a multiple of the segment size \(segmentSize)")
            }
            if let last = segs.last, last.end != base {
                throw StoreError.badSegment(path: path, reason: "gap after segment \(Segment.fileName(base: last.base))")
            }
            let file = readOnly ? try MappedFile.openReadOnly(path: path) : try MappedFile.open(path: path, size: size, create: false)
            segs.append(Segment(base: base, file: file))
        }
        segmentList = Mutex(segs)
        writer = Mutex(WriterState(current: segs.last, position: segs.first?.base ?? 0,
                                   stage: writeThrough && !readOnly ? WriteStage(capacity: 1 << 20) : nil))
    }

    // MARK: Segments

    var segments: [Segment] { segmentList.withLock { $0 } }
    var minOffset: Int64 { segmentList.withLock { $0.first?.base ?? 0 } }

    func segment(containing offset: Int64) -> Segment? {
        segmentList.withLock { segs in
            guard let first = segs.first, offset >= first.base else { return nil }
            let i = Int((offset - first.base) / Int64(segmentSize))
            // A read-only tool may map a short last segment: an offset past its end is in no segment.
            return i < segs.count && offset < segs[i].end ? segs[i] : nil
        }
    }

    func createSegment(base: Int64) throws -> Segment {
        let path = directory + "/" + Segment.fileName(base: base)
        let file = try MappedFile.open(path: path, size: segmentSize, create: true)
        try FileSystem.syncDirectory(directory)
        return Segment(base: base, file: file)
    }

    /// The segment starting at `base`: the prepared one, else created now. Creation is serialised by `creation`,
    /// so the writer and the housekeeping thread never build the same file twice. A failure is remembered: until a
    /// preparation succeeds, the writer fails at once with it (never waiting for, or repeating, an allocation
    /// that may take most of a second on a full disk) while the housekeeping thread retries.
    func preparedOrCreate(base: Int64, byWriter: Bool) throws -> Segment {
        func settled() throws -> Segment? {
            let state = preparation.withLock { ($0.ready, $0.failure?.error) }
            if let ready = state.0, ready.base == base { return ready }
            if byWriter, let failure = state.1 { throw failure }
            return nil
        }
        if let ready = try settled() { return ready }
        return try creation.withLock { _ in
            if let ready = try settled() { return ready }  // built (or failed) while this thread waited
            let segment: Segment
            do {
                segment = try createSegment(base: base)
            } catch {
                let failure = StoreError.wrap(error)
                preparation.withLock { $0.failure = (failure, clock.monotonicNanos()) }
                throw failure
            }
            preparation.withLock { $0 = Preparation(ready: segment, failure: nil) }
            return segment
        }
    }

    /// Creates the segment after the current one (its pages: `prefaultPreparedSegment`) so the writer never
    /// waits for it. Called by housekeeping when the writer passes half of its segment. After a failure
    /// (ENOSPC…) it retries at most once per `preparationRetryNanos` (returning quietly in between, so the caller
    /// logs once per attempt); the writer fails its appends with the remembered error until a retry succeeds.
    func prepareNextSegment() throws {
        let base: Int64? = writer.withLock { w in
            guard w.requestedPrepare, let cur = w.current else { return nil }
            return cur.end
        }
        guard let base else { return }
        let backingOff = preparation.withLock { p in
            guard let failure = p.failure else { return false }
            return clock.monotonicNanos() - failure.atNanos < Self.preparationRetryNanos
        }
        if backingOff { return }
        _ = try preparedOrCreate(base: base, byWriter: false)
    }

    /// How long a failed preparation waits before the next attempt (each attempt may allocate a whole segment).
    static let preparationRetryNanos: UInt64 = 1_000_000_000

    /// The error of the last failed segment preparation, while no later one succeeded.
    var preparationFailure: StoreError? { preparation.withLock { $0.failure?.error } }

    /// Faults in the first `window` bytes of the prepared next segment, once per segment, after it was published
    /// and with no lock held (MADV_POPULATE_WRITE never changes contents, so a writer already in it is unharmed):
    /// the segment is built by housekeeping without its pages (`prepareNextSegment`), so the
    /// writer never waits on the build lock behind a zero-fill that runs at idle priority.
    func prefaultPreparedSegment(window: Int) {
        guard prefault, window > 0, let ready = preparation.withLock({ $0.ready }) else { return }
        guard preparedPrefaulted.withLock({ $0 != ready.base }) else { return }
        if fault(ready.file, 0..<min(ready.size, window)) {
            preparedPrefaulted.withLock { $0 = ready.base }
        }
    }

    /// Faults in up to `window` bytes of the active segment ahead of the writer (MADV_POPULATE_WRITE, which
    /// never changes contents, so racing the writer is harmless). Covers the segment a brand-new store
    /// starts with and any segment the writer had to create itself.
    func prefaultAhead(window: Int) {
        guard prefault else { return }
        let (seg, position) = writer.withLock { ($0.current, $0.position) }
        guard let seg else { return }
        let target = min(seg.end, position + Int64(window))
        let from = prefaultedUpTo.withLock { max($0, position - position % Int64(MappedFile.pageSize)) }
        guard from < target, from >= seg.base else {
            if from < seg.base { prefaultedUpTo.withLock { $0 = seg.base } }
            return
        }
        if fault(seg.file, Int(from - seg.base)..<Int(target - seg.base)) {
            prefaultedUpTo.withLock { $0 = target }
        }
    }

    /// A write-through log is faulted in for reading only: writable entries would make each write-back
    /// write-protect its pages again (see `CommitLog+WriteThrough.swift`).
    private func fault(_ file: MappedFile, _ range: Range<Int>) -> Bool {
        if writeThrough { return file.prefaultForReading(range, singlePages: singlePagePrefault) }
        return writeAhead ? file.writeAhead(range, singlePages: singlePagePrefault)
            : file.prefaultWithoutTouching(range, singlePages: singlePagePrefault)
    }

    var wantsNextSegment: Bool {
        writer.withLock { w in w.requestedPrepare && preparation.withLock { $0.ready?.base != w.current?.end } }
    }

    // MARK: Writer

    /// Offset of the next record; every byte below is written.
    var writePosition: Int64 { published.load(ordering: .acquiring) }

    /// After recovery: the valid end, the per-queue next offsets and the last store time.
    func resetWriter(position: Int64, nextQueueOffsets: [QueueKey: Int64], lastStoreTimestamp: Int64) throws {
        try writer.withLock { w in
            try seed(&w, position: position, nextQueueOffsets: nextQueueOffsets, lastStoreTimestamp: lastStoreTimestamp)
        }
    }

    /// Sets the writer state (the caller holds the writer) and publishes `position`.
    func seed(_ w: inout WriterState, position: Int64, nextQueueOffsets: [QueueKey: Int64],
              lastStoreTimestamp: Int64) throws {
        var table: [QueueSlotKey: Int64] = [:]
        for (q, next) in nextQueueOffsets { table[QueueSlotKey(topic: Array(q.topic.utf8), queueId: q.queueId)] = next }
        w.nextQueueOffset = table
        w.lastStoreTimestamp = lastStoreTimestamp
        w.position = position
        w.received = position
        cacheDroppedBelow.withLock { $0 = min($0, position) }
        w.current = segment(containing: position)
        if w.current == nil {
            let base = position - position % Int64(segmentSize)
            let seg = try createSegment(base: base)
            segmentList.withLock { $0.append(seg) }
            w.current = seg
        }
        w.requestedPrepare = w.current.map { position - $0.base > Int64(segmentSize / 2) } ?? false
        published.store(position, ordering: .releasing)
    }

    /// Appends records in order under one lock hold (a batch gets consecutive queue offsets).
    /// Preconditions (checked by the store): each draft fits `maxRecordSize`.
    func append(_ drafts: [MessageDraft], now: Int64) throws -> [AppendResult] {
        try writer.withLock { w in
            var results: [AppendResult] = []
            results.reserveCapacity(drafts.count)
            for d in drafts { results.append(try place(d, now: now, &w)) }
            try commitStage(&w)
            published.store(w.position, ordering: .releasing)
            return results
        }
    }

    func append(_ draft: MessageDraft, now: Int64) throws -> AppendResult {
        try writer.withLock { w in
            let r = try place(draft, now: now, &w)
            try commitStage(&w)
            published.store(w.position, ordering: .releasing)
            return r
        }
    }

    private func place(_ d: MessageDraft, now: Int64, _ w: inout WriterState) throws -> AppendResult {
        guard w.role == .leader else { throw StoreError.notLeader }
        let size = d.encodedSize
        precondition(size <= maxRecordSize, "record larger than maxRecordSize reached the log")
        let seg = try roomFor(size, &w)
        let pos = w.position
        let tt = SysFlag.transactionType(d.sysFlag)
        var queueOffset: Int64 = 0
        if tt == SysFlag.transactionNot || tt == SysFlag.transactionCommit {
            let key = QueueSlotKey(topic: d.topic, queueId: d.queueId)
            queueOffset = { (next: inout Int64) -> Int64 in defer { next += 1 }; return next }(&w.nextQueueOffset[key, default: 0])
        }
        let ts = max(now, w.lastStoreTimestamp)  // monotonic in log order
        w.lastStoreTimestamp = ts
        let target: UnsafeMutableRawBufferPointer
        if let stage = w.stage {
            if stage.count == 0 { w.stageStart = pos }
            target = stage.reserve(size)
        } else {
            target = seg.mutableBytes(pos..<(pos + Int64(size)))
        }
        d.encode(into: target, queueOffset: queueOffset, physicalOffset: pos, storeTimestamp: ts)
        w.position = pos + Int64(size)
        if !w.requestedPrepare, w.position - seg.base > Int64(segmentSize / 2) { w.requestedPrepare = true }
        return AppendResult(physicalOffset: pos, size: size, queueOffset: queueOffset, storeTimestamp: ts)
    }

    /// The segment where `size` bytes go at `w.position`, rolling to a new segment (after writing the blank
    /// filler) when the record plus an 8-byte blank header would not fit.
    /// Invariant kept: after every record at least 8 bytes remain in its segment, room for a blank.
    /// Throws (with nothing written) when the next segment cannot be had: the append fails, the log is unchanged.
    private func roomFor(_ size: Int, _ w: inout WriterState) throws -> Segment {
        guard let cur = w.current else { preconditionFailure("writer used before resetWriter") }
        if w.position + Int64(size) + 8 <= cur.end { return cur }
        try commitStage(&w)  // the staged records belong to `cur`
        let remaining = Int(cur.end - w.position)
        precondition(remaining >= 8, "blank invariant broken")
        w.requestedPrepare = true  // a failure below leaves the preparation to the housekeeping thread's retries
        let next = try preparedOrCreate(base: cur.end, byWriter: true)
        preparation.withLock { $0.ready = nil }
        let blank = cur.mutableBytes(w.position..<cur.end)
        blank.storeBigEndian(UInt32(remaining), at: 0)
        blank.storeBigEndian(RecordLayout.blankMagic, at: 4)
        segmentList.withLock { $0.append(next) }
        w.current = next
        w.position = next.base
        w.requestedPrepare = false
        return next
    }

    // MARK: Reading

    /// The record starting at `offset` (validated without CRC), or nil when there is none below the
    /// published position.
    func record(at offset: Int64) -> StoredMessage? {
        var segment: Segment? = nil
        return record(at: offset, segment: &segment)
    }

    /// The record at `offset` validated up to its segment's end, ignoring the published position (recovery
    /// and offline tools, before or without a writer).
    func recordAnyPosition(at offset: Int64, checkCRC: Bool = false) -> StoredMessage? {
        guard offset >= 0, let seg = segment(containing: offset) else { return nil }
        let bytes = seg.bytes(offset..<seg.end)
        guard case let .record(size) = RecordScanner.scan(bytes, at: 0, checkCRC: checkCRC, maxRecordSize: maxRecordSize)
        else { return nil }
        return StoredMessage(segment: seg, physicalOffset: offset, size: size)
    }

    /// Why a walk stopped.
    enum WalkStop: Equatable {
        case endOfData          // zeros: nothing written here
        case endOfLog           // ran past the last segment or the limit
        case invalid(RecordScanError)
        case stoppedByCaller
    }

    /// Visits records from `start` (a record boundary) up to `limit`, jumping over blanks to the next segment.
    /// `visit` returns false to stop after that record. Returns the offset after the last record visited
    /// (or blank jumped) and why it stopped.
    func walk(from start: Int64, limit: Int64 = .max, checkCRC: Bool,
              _ visit: (Int64, RecordView) throws -> Bool) rethrows -> (end: Int64, stop: WalkStop) {
        var pos = start
        while pos < limit {
            guard let seg = segment(containing: pos) else { return (pos, .endOfLog) }
            let bytes = seg.bytes(pos..<min(seg.end, max(limit, pos)))
            var local = 0
            while local < bytes.count {
                switch RecordScanner.scan(bytes, at: local, checkCRC: checkCRC, maxRecordSize: maxRecordSize) {
                case let .record(size):
                    let view = RecordView(UnsafeRawBufferPointer(rebasing: bytes[local..<(local + size)]))
                    let more = try visit(pos, view)
                    pos += Int64(size)
                    local += size
                    if !more { return (pos, .stoppedByCaller) }
                case .blank:
                    pos = seg.end
                    local = bytes.count
                case .endOfData:
                    return (pos, .endOfData)
                case let .invalid(error):
                    return (pos, .invalid(error))
                }
            }
        }
        return (pos, .endOfLog)
    }

    // MARK: Truncation and retention

    /// Erases everything from `offset` on: later segments are deleted and, with `discardTail`, the rest of
    /// its segment is cut (ftruncate + fallocate + fsync). A clean end (zeros at `offset`) needs no cut, which
    /// keeps a clean or `kill -9` restart free of an fsync.
    func truncate(from offset: Int64, discardTail: Bool) throws {
        let doomed: [Segment] = segmentList.withLock { segs in
            let drop = segs.filter { $0.base > offset }
            segs.removeAll { $0.base > offset }
            return drop
        }
        if discardTail, let seg = segment(containing: offset), offset < seg.end {
            try seg.file.discardTail(from: Int(offset - seg.base))
        }
        for s in doomed { try FileSystem.remove(s.file.path) }
        if !doomed.isEmpty { try FileSystem.syncDirectory(directory) }
        preparation.withLock { $0.ready = nil }
    }

    /// Deletes the oldest segment (never the active one). Returns the new minimum offset, or nil.
    func deleteOldestSegment(if shouldDelete: (Segment) -> Bool) throws -> Int64? {
        let active = writer.withLock { $0.current?.base }
        let victim: Segment? = segmentList.withLock { segs in
            guard segs.count > 1, let first = segs.first, first.base != active, shouldDelete(first) else { return nil }
            segs.removeFirst()
            return first
        }
        guard let victim else { return nil }
        try FileSystem.remove(victim.file.path)  // readers holding it keep the mapping until they drop it
        return minOffset
    }
}

/// A record in the mapped log: a zero-copy view valid as long as this value (which retains its segment).
public struct StoredMessage: Sendable {
    public let segment: Segment
    public let physicalOffset: Int64
    public let size: Int

    /// The record's bytes, straight from the map.
    public var bytes: UnsafeRawBufferPointer { segment.bytes(physicalOffset..<(physicalOffset + Int64(size))) }
    public var record: RecordView { RecordView(bytes) }
    /// Offset of the record inside its segment file (for sendfile-style transfers).
    public var fileOffset: Int { Int(physicalOffset - segment.base) }
}
