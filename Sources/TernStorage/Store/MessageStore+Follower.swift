import Synchronization
import TernMessage

/// Where a follower stands after `appendReplicated`.
public struct ReplicationPosition: Sendable, Equatable {
    /// Readers and the indexes see every record below (`maxPhysicalOffset`).
    public var published: Int64
    /// The next chunk must start here: the offset a slave reports to its master. Above `published` by the
    /// bytes of a record the last chunk cut.
    public var received: Int64
}

/// Roles: a leader appends its own records; a follower writes its leader's log bytes at the same offsets and
/// derives its indexes from them like a leader does. The role is kept under the writer lock, so a promotion
/// never interleaves with an append.
extension MessageStore {
    public var role: StoreRole { log.role }

    /// End of the bytes received from the leader, a held partial record included (equals `maxPhysicalOffset`
    /// on a leader).
    public var replicationOffset: Int64 { log.receivedPosition }

    /// Writes the leader's log bytes `bytes` at physical offset `offset` and publishes every record they
    /// complete, each validated first (CRC included). An empty follower may start at any segment boundary (its
    /// leader's newest segment). Throws `.replicationOffsetMismatch` unless `offset` is `replicationOffset`;
    /// `.replicatedRecordInvalid` when a record fails validation (the records before it stay published, the
    /// bytes from it on are dropped: resume from `maxPhysicalOffset`); `.notFollower` on a leader.
    /// Durability follows the flush mode like leader appends (`whenDurable`).
    @discardableResult
    public func appendReplicated(_ bytes: some Sequence<UInt8>, at offset: Int64) throws(StoreError)
        -> ReplicationPosition
    {
        try ensureOpen()
        if let why = flusher.failed { throw .writeFailed(why) }
        let result: CommitLog.ReplicatedAppend
        do {
            if offset != log.receivedPosition, log.writePosition == log.minOffset {
                try log.withWriter { w in
                    if try log.restartEmpty(at: offset, &w) {
                        dispatcher.rewind(to: DispatchCheckpoint(offset: offset, lastRecord: -1))
                    }
                }
            }
            result = try bytes.withContiguousStorageIfAvailable {
                try log.appendReplicated(UnsafeRawBufferPointer($0), at: offset)
            } ?? Array(bytes).withUnsafeBytes { try log.appendReplicated($0, at: offset) }
        } catch {
            dispatcher.wake()  // records before an invalid one were published
            throw StoreError.wrap(error)
        }
        try afterAppend()
        return ReplicationPosition(published: result.published, received: result.received)
    }

    /// Makes a follower the leader: a held partial record is dropped, and leader appends continue every
    /// queue's offsets after the last replicated record (the follower path keeps the writer state current).
    public func promote() throws(StoreError) {
        try ensureOpen()
        log.promote()
    }

    /// Makes a leader a follower that continues from the current end (truncate first when its log diverged).
    public func demote() throws(StoreError) {
        try ensureOpen()
        log.demote()
    }

    /// Durably truncates the log to `offset` (a record boundary): the bytes from it on are erased on disk,
    /// later segments deleted, index entries at or past it cut, consumer offsets above a queue's new end
    /// clamped to it, and the writer continues there with the queue offsets the remaining log implies.
    /// Appends wait meanwhile; the caller waits for the dispatcher to index the old end first, so its cost
    /// is the unindexed tail plus a walk of at most two segments. Readers of erased records may read zeros.
    public func truncate(to offset: Int64) throws(StoreError) {
        try ensureOpen()
        do {
            try log.withWriter { w in
                let lastRecord = try log.lastRecordStart(before: offset, end: w.position)
                // With the writer held nothing is published, so once the dispatcher has indexed the old end it
                // stays idle and never reads the bytes erased below.
                guard waitUntilDispatched(w.position) else {
                    let why = dispatcher.failed.map { "\($0)" } ?? "timeout"
                    throw StoreError.unexpected("indexing did not reach \(w.position) before truncation: \(why)")
                }
                try log.eraseDurably(from: offset, &w)
                try index.truncate(from: offset, lastRecord: lastRecord)
                let queues = try index.queues()
                try clampConsumerOffsets(to: queues)
                try index.sync()
                dispatcher.rewind(to: DispatchCheckpoint(offset: offset, lastRecord: lastRecord))
                flusher.rewind(to: offset)
                let lastRecordView = lastRecord < 0 ? nil : log.recordAnyPosition(at: lastRecord)
                let lastStoreTimestamp = lastRecordView?.record.storeTimestamp ?? 0
                try log.seed(&w, position: offset, nextQueueOffsets: queues.mapValues(\.max),
                             lastStoreTimestamp: lastStoreTimestamp)
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    private func ensureOpen() throws(StoreError) {
        guard !isClosed.load(ordering: .acquiring) else { throw .closed }
    }

    /// Consumer offsets past a queue's end would skip the records a new leader writes there.
    private func clampConsumerOffsets(to queues: [QueueKey: QueueRange]) throws {
        for (key, committed) in try index.consumerOffsets() {
            let end = queues[key.queue]?.max ?? 0
            if committed > end { try index.commitConsumerOffset(group: key.group, queue: key.queue, offset: end) }
        }
    }
}
