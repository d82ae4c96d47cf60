import TernStorage

/// A consumer or queue offset request, whatever transport carried it.
enum OffsetRequest: Sendable, Equatable {
    /// The group's committed offset on the queue (QUERY_CONSUMER_OFFSET).
    case committed(group: String, queue: QueueKey)
    /// Commit (UPDATE_CONSUMER_OFFSET; a pull's commit flag goes to `OffsetService.commit` directly).
    case commit(group: String, queue: QueueKey, offset: Int64)
    /// The first logical offset stored at or after the time (SEARCH_OFFSET_BY_TIMESTAMP).
    case offsetAt(queue: QueueKey, timestampMillis: Int64)
    /// The queue's end / first logical offset (GET_MAX_OFFSET / GET_MIN_OFFSET); 0 for an unknown queue.
    case maxOffset(QueueKey)
    case minOffset(QueueKey)
    /// Store time of the queue's first message (GET_EARLIEST_MSG_STORETIME).
    case earliestStoreTime(QueueKey)
}

/// What an offset request answers.
enum OffsetResult: Sendable, Equatable {
    case offset(Int64)
    case timestampMillis(Int64)
    case committed
    /// The group never committed on a queue that no longer starts at 0: the client picks its own start.
    case noCommittedOffset
}

extension OffsetService {
    /// Answers `request`; throws the store's error. Never blocks on the index's write lock (commits are
    /// batched), so event loops may call it.
    func answer(_ request: OffsetRequest) throws -> OffsetResult {
        switch request {
        case let .committed(group, queue):
            // The committed offset; else 0 while the queue still starts at offset 0 (a new group then sees the
            // messages already there, as RocketMQ 4.9 does for data in memory); else none.
            if let offset = committed(group: group, queue: queue), offset >= 0 { return .offset(offset) }
            return (try store.queueRange(queue)?.min ?? 0) == 0 ? .offset(0) : .noCommittedOffset
        case let .commit(group, queue, offset):
            commit(group: group, queue: queue, offset: offset)
            return .committed
        case let .offsetAt(queue, timestampMillis):
            return .offset(try store.offset(forTimestamp: timestampMillis, in: queue))
        case let .maxOffset(queue):
            return .offset(try store.queueRange(queue)?.max ?? 0)
        case let .minOffset(queue):
            return .offset(try store.queueRange(queue)?.min ?? 0)
        case let .earliestStoreTime(queue):
            return .timestampMillis(try store.earliestStoreTime(queue))
        }
    }
}
