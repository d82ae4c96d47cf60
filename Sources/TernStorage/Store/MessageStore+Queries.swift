import TernMessage

/// Typed queries over the derived state, for the broker. The index itself stays inside the store: callers
/// ask for what they need, and the store decides how it is kept.
extension MessageStore {
    // MARK: Consume queues

    /// Entries of `queue` from logical offset `from`, at most `maxCount`, in offset order.
    public func entries(_ queue: QueueKey, from: Int64, maxCount: Int) throws -> [ConsumeQueueEntry] {
        try index.entries(queue, from: from, maxCount: maxCount)
    }

    // MARK: Consumer offsets (primary state)

    public func consumerOffset(group: String, queue: QueueKey) throws -> Int64? {
        try index.consumerOffset(group: group, queue: queue)
    }

    public func commitConsumerOffset(group: String, queue: QueueKey, offset: Int64) throws {
        try index.commitConsumerOffset(group: group, queue: queue, offset: offset)
    }

    /// Writes every offset of `batch` in one index transaction (all or none).
    public func commitConsumerOffsets(_ batch: [ConsumerOffsetKey: Int64]) throws {
        try index.commitConsumerOffsets(batch)
    }

    public func consumerOffsets() throws -> [ConsumerOffsetKey: Int64] { try index.consumerOffsets() }
    /// One group's committed offsets, all topics.
    public func consumerOffsets(group: String) throws -> [ConsumerOffsetKey: Int64] { try index.consumerOffsets(group: group) }

    /// Deletes every offset of `groups` (all topics), then rewrites the offset backup at once so an index rebuilt
    /// from the log does not restore them; returns how many were deleted.
    public func removeConsumerOffsets(groups: Set<String>) throws -> Int {
        let removed = try index.removeConsumerOffsets(groups: groups)
        if removed > 0 { try rewriteOffsetBackup() }
        return removed
    }

    // MARK: Timers and transactions

    /// Pending timer entries due at or before `due`, earliest first, at most `limit`.
    public func timers(dueBy due: Int64, limit: Int) throws -> [TimerEntry] { try index.timers(dueBy: due, limit: limit) }
    /// The earliest pending timer, if any.
    public func firstTimer() throws -> TimerEntry? { try index.firstTimer() }
    public func transactionState(_ halfOffset: Int64) throws -> TransactionState? { try index.transactionState(halfOffset) }
    /// CHECK_TRANSACTION_STATE requests recorded so far for the half message at `halfOffset`.
    public func transactionChecks(_ halfOffset: Int64) throws -> Int32 { try index.transactionChecks(halfOffset) }

    // MARK: Index state

    /// The log offset the indexes cover and the start of the last record they cover.
    public func indexCheckpoint() throws -> DispatchCheckpoint { try index.checkpoint() }
    public func indexStatistics() throws -> IndexStatistics { try index.statistics() }
}
