import TernMessage

/// Everything `Dispatcher.derive` depends on besides the record itself. Recorded in the index's meta table
/// when the index is built, so the derived tables are a pure function of the log plus this value.
public struct DerivationConfig: Sendable, Equatable, Codable {
    /// Delay-level table in ms (`messageDelayLevel`): due-time tag codes of schedule-topic records.
    public var delayLevelMillis: [Int64]

    public init(delayLevelMillis: [Int64] = DelayedDelivery.defaultLevelMillis) {
        self.delayLevelMillis = delayLevelMillis
    }

    public static let `default` = DerivationConfig()
}

/// A batch the index refused, with the log range it covered (header fields such as queue offsets are not
/// covered by the body CRC, so a corrupt header can reach the index as a queue gap).
struct ReplayBatchError: Error, CustomStringConvertible {
    var range: Range<Int64>
    var underlying: any Error
    var description: String { "index refused the batch covering log offsets \(range.lowerBound)..<\(range.upperBound): \(underlying)" }
}

/// The one replay loop of the store: walk the log from a checkpoint, derive each record, apply batches to the
/// index with the checkpoint in the same transaction. Serves the dispatcher thread (no CRC: it reads what
/// this process just wrote), recovery and `OfflineStore.rebuildIndex` (CRC checked: the bytes come from disk).
///
/// Stops at end of data, at `limit`, after `maxRecords`, or at an invalid record: the first one without CRC
/// checks (the dispatcher fails loudly), or a torn tail with them. With CRC checks, damage in the middle of the
/// log is stepped over (`CommitLog.walkAcrossDamage`): the damaged records are not indexed, and since their
/// queue offsets are lost, the batches after the damage accept a gap in a queue's offsets.
/// Each applied batch leaves the index a consistent prefix.
struct Replay {
    let log: CommitLog
    let index: any IndexStore
    let derivation: DerivationConfig
    let batchLimit: Int
    let checkCRC: Bool

    struct Outcome {
        /// Where the index now stands (the offset after the last record or blank walked).
        var checkpoint: DispatchCheckpoint
        var records = 0
        var batches = 0
        var stop: CommitLog.WalkStop = .endOfData
        /// Store time of the last record replayed (0 when none).
        var lastStoreTimestamp: Int64 = 0
        /// Damage stepped over, in log order (CRC-checked replays only).
        var damaged: [DamagedRange] = []
    }

    /// What a replay reuses batch after batch: the derived records and their text. The dispatcher keeps one
    /// across wake-ups, so a steady stream of batches allocates no per-batch arrays.
    struct Buffers {
        var records: [DispatchRecord] = []
        var derive = DeriveScratch()
    }

    /// `run` with buffers of its own (recovery, offline tools).
    func run(from start: DispatchCheckpoint, limit: Int64 = .max, maxRecords: Int = .max,
             visited: (Int64, Int) -> Void = { _, _ in },
             batchApplied: (DispatchBatch) -> Void = { _ in }) throws -> Outcome {
        var buffers = Buffers()
        return try run(from: start, limit: limit, maxRecords: maxRecords, buffers: &buffers, visited: visited,
                       batchApplied: batchApplied)
    }

    /// Replays from `start` (a record boundary) to `limit`. `visited` sees each record's offset and the running
    /// record count (progress); `batchApplied` sees each applied batch after its commit (dispatch events).
    /// A walk that moved only over blanks is applied too, so the checkpoint passes them.
    func run(from start: DispatchCheckpoint, limit: Int64 = .max, maxRecords: Int = .max, buffers: inout Buffers,
             visited: (Int64, Int) -> Void = { _, _ in },
             batchApplied: (DispatchBatch) -> Void = { _ in }) throws -> Outcome {
        precondition(batchLimit > 0, "batch limit must be positive")
        var out = Outcome(checkpoint: start)
        buffers.records.reserveCapacity(min(batchLimit, 1_024))
        repeat {
            let budget = min(batchLimit, maxRecords - out.records)
            guard budget > 0 else { break }
            buffers.records.removeAll(keepingCapacity: true)
            buffers.derive.startBatch()
            var cp = out.checkpoint
            let done = out.records
            func take(_ offset: Int64, _ view: RecordView) -> Bool {
                buffers.records.append(Dispatcher.derive(offset, view, derivation, &buffers.derive))
                cp.lastRecord = offset
                out.lastStoreTimestamp = view.storeTimestamp
                visited(offset, done + buffers.records.count)
                return buffers.records.count < budget && buffers.derive.text.count < DeriveScratch.textLimit
            }
            let (end, stop) = checkCRC
                ? log.walkAcrossDamage(from: cp.offset, limit: limit, take, damaged: { out.damaged.append($0) })
                : log.walk(from: cp.offset, limit: limit, checkCRC: false, take)
            out.stop = stop
            if !buffers.records.isEmpty || end != cp.offset {
                let covered = cp.offset
                cp.offset = end
                let batch = DispatchBatch(records: buffers.records, topics: buffers.derive.topics,
                                          text: buffers.derive.text, checkpoint: cp, acceptsQueueGaps: !out.damaged.isEmpty)
                do {
                    try index.apply(batch)
                } catch {
                    throw ReplayBatchError(range: covered..<end, underlying: error)
                }
                out.checkpoint = cp
                out.batches += 1
                batchApplied(batch)
            }
            out.records += buffers.records.count
        } while out.stop == .stoppedByCaller
        return out
    }
}
