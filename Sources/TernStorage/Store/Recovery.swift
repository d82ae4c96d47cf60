import Logging
import TernMessage

/// What recovery found at open (tests assert on it; `tern-inspect stats` shows it).
public struct RecoveryReport: Sendable, Equatable {
    /// The index checkpoint found at open.
    public var checkpointAtOpen: Int64
    /// Where the replay started (the checkpoint, or earlier when the index was ahead of the log).
    public var replayedFrom: Int64
    /// Records re-dispatched from the unindexed tail.
    public var replayedRecords: Int
    /// End of valid data = the new write position.
    public var validEnd: Int64
    /// Why the scan stopped at `validEnd` when that was not clean end-of-data (torn / corrupt tail).
    public var tailProblem: String?
    /// Bytes of segment space from `validEnd` that were discarded (to the end of its segment) and segments deleted.
    public var deletedSegments: Int
    /// True when the index pointed past the valid log end and was cut back.
    public var indexWasAhead: Bool
    /// Wall time of recovery in ms.
    public var millis: Double
    /// True when the index had been built with another `DerivationConfig` and its derived tables were
    /// rebuilt from the log (consumer offsets kept).
    public var derivationRebuilt = false
    /// Damage met in the middle of the replayed log: skipped (never served), not truncated.
    public var damagedRanges: [DamagedRange] = []
}

/// Startup recovery (event-sourced):
/// 1. Read the index checkpoint (offset C, last record L). If L's record is not intact in the log, or C lies
///    past the log, the index is ahead: find the real end by scanning from the start of L's segment (stepping
///    back a segment when that one starts invalid).
/// 2. Scan from the replay start, validating each record (size bounds, magic, lengths, body CRC), dispatching
///    valid ones to the index in batches. An invalid record followed by a valid one later in the log is damage
///    in the middle: logged as an error (segment, offset range, bytes), skipped, never truncated. The scan ends
///    at end-of-data or at a torn tail (an invalid record with nothing valid after it): the valid end E.
/// 3. Discard everything from E (torn tail, stale bytes, later segments) and cut index entries at or past E.
/// 4. Rebuild the per-queue next offsets from the index.
/// Cost depends on the unindexed tail, not on the store size.
enum Recovery {
    static func run(log: CommitLog, index: any IndexStore, batchLimit: Int,
                    derivation: DerivationConfig, logger: Logger) throws
        -> (RecoveryReport, DispatchCheckpoint)
    {
        let started = ContinuousClock.now
        let derivationRebuilt = try reconcileDerivation(index, derivation, logger: logger)
        let cp = try index.checkpoint()
        var report = RecoveryReport(checkpointAtOpen: cp.offset, replayedFrom: cp.offset, replayedRecords: 0, validEnd: 0,
                                    tailProblem: nil, deletedSegments: 0, indexWasAhead: false, millis: 0)
        var start = cp
        if !checkpointIsIntact(cp, log) {
            report.indexWasAhead = true
            start = findResumePoint(before: cp, log)
            logger.warning("index checkpoint is ahead of the log; replaying from an earlier record",
                           metadata: ["checkpoint": "\(cp.offset)", "replay.from": "\(start.offset)"])
            try index.truncate(from: start.offset, lastRecord: start.lastRecord)
        } else if cp.offset < log.minOffset {
            start = DispatchCheckpoint(offset: log.minOffset, lastRecord: -1)
        }
        report.replayedFrom = start.offset
        report.derivationRebuilt = derivationRebuilt

        // Replay the tail, validating CRCs, through the store's one replay loop (one index transaction per batch).
        let replay = Replay(log: log, index: index, derivation: derivation, batchLimit: batchLimit, checkCRC: true)
        let out = try replay.run(from: start)
        let position = out.checkpoint.offset, stop = out.stop
        let last = out.checkpoint
        var lastStoreTimestamp = out.lastStoreTimestamp
        report.replayedRecords = out.records
        report.damagedRanges = out.damaged
        for d in out.damaged {
            logger.error("""
                commit log damaged in the middle: the records in this range are lost and skipped; the log is not \
                truncated and the records after it stay readable
                """, metadata: ["segment": "\(d.segmentFileName)", "offset.start": "\(d.start)", "offset.end": "\(d.end)",
                           "bytes": "\(d.bytes)", "reason": "\(d.reason)"])
        }

        if case let .invalid(why) = stop {
            report.tailProblem = "\(why)"
            logger.warning("torn tail truncated (nothing valid follows it)",
                           metadata: ["offset": "\(position)", "reason": "\(why)"])
        }
        let before = log.segments.count
        var damaged = false
        if case .invalid = stop { damaged = true }
        try log.truncate(from: position, discardTail: damaged || report.indexWasAhead)
        report.deletedSegments = before - log.segments.count
        // Entries past the valid end can only exist when the index was ahead; cut them in any case (cheap).
        if cp.offset > position { report.indexWasAhead = true }
        try index.truncate(from: position, lastRecord: last.lastRecord)
        report.validEnd = position

        if lastStoreTimestamp == 0, last.lastRecord >= 0, let r = log.recordAnyPosition(at: last.lastRecord) {
            lastStoreTimestamp = r.record.storeTimestamp
        }
        let next = try index.queues().mapValues(\.max)
        try log.resetWriter(position: position, nextQueueOffsets: next, lastStoreTimestamp: lastStoreTimestamp)
        report.millis = Double((ContinuousClock.now - started).components.attoseconds) / 1e15
            + Double((ContinuousClock.now - started).components.seconds) * 1000
        return (report, DispatchCheckpoint(offset: position, lastRecord: last.lastRecord))
    }

    /// Makes the index's recorded derivation config `current`. An index recorded with another config (e.g. the
    /// broker's `messageDelayLevel` changed) has tag codes the current dispatcher would not write: its derived
    /// tables are dropped (consumer offsets kept) and the replay rebuilds them from the log, so the index stays a
    /// pure function of the log plus the recorded config. An index without a record (built before configs were
    /// recorded) was built by this broker's dispatcher, so it is taken as built with `current`.
    /// Returns true when the derived tables were dropped.
    static func reconcileDerivation(_ index: any IndexStore, _ current: DerivationConfig, logger: Logger) throws -> Bool {
        guard let recorded = try index.derivation() else {
            try index.recordDerivation(current)
            return false
        }
        guard recorded != current else { return false }
        logger.warning("""
            index was built with another derivation config; rebuilding the derived tables from the log \
            (consumer offsets kept)
            """, metadata: ["recorded.delayLevelMillis": "\(recorded.delayLevelMillis)",
                                                     "current.delayLevelMillis": "\(current.delayLevelMillis)"])
        try index.clearDerived()
        try index.recordDerivation(current)
        return true
    }

    /// True when the record the checkpoint names as last is intact and the checkpoint is inside the log.
    static func checkpointIsIntact(_ cp: DispatchCheckpoint, _ log: CommitLog) -> Bool {
        if cp.offset == 0 && cp.lastRecord < 0 { return true }
        guard let lastSeg = log.segments.last, cp.offset <= lastSeg.end else { return false }
        guard cp.lastRecord >= 0 else { return cp.offset <= log.minOffset }
        guard let r = log.recordAnyPosition(at: cp.lastRecord, checkCRC: true) else { return false }
        return r.physicalOffset + Int64(r.size) <= cp.offset
    }

    /// A record boundary at or before the checkpoint to replay from: the start of the last segment (at or
    /// before the checkpoint's last record) whose first bytes are a valid record.
    static func findResumePoint(before cp: DispatchCheckpoint, _ log: CommitLog) -> DispatchCheckpoint {
        let anchor = max(cp.lastRecord, 0)
        for seg in log.segments.reversed() where seg.base <= anchor {
            if log.recordAnyPosition(at: seg.base, checkCRC: true) != nil {
                return DispatchCheckpoint(offset: seg.base, lastRecord: -1)
            }
        }
        return DispatchCheckpoint(offset: log.minOffset, lastRecord: -1)
    }
}
