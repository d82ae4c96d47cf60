import Synchronization
import TernStorage

/// A broker-internal reader of consume queues: the schedule levels, the trace recorder, the dead-letter
/// resend and the transaction scan.
///
/// Per queue it keeps a cursor (the next logical offset to read) in memory. The cursor starts from the
/// group's consumer offset (durable progress), else the queue's first offset, and never points below the
/// queue's first offset (retention). `advance` moves the cursor and, when `commitsProgress`, commits it as
/// the group's offset, so a restart resumes after what was done. Consumers whose progress is derived from
/// the log (the schedule levels: dispatching a delivered record advances it) pass `commitsProgress: false`.
///
/// `watch` subscribes to dispatch events and calls `wake` for those its `interest` accepts, so the consumer
/// sleeps until something it reads was indexed instead of polling. `interest` and `wake` run on the
/// dispatcher thread: they must be quick and never block.
final class InternalConsumer: Sendable {
    let group: String
    let store: MessageStore
    private let commitsProgress: Bool
    private let cursors = Mutex<[QueueKey: Int64]>([:])
    private let subscription = Mutex<DispatchSubscription?>(nil)

    init(group: String, store: MessageStore, commitsProgress: Bool) {
        self.group = group
        self.store = store
        self.commitsProgress = commitsProgress
    }

    /// The queue's range and the next offset to read in it (within the range); nil for an unknown queue.
    func position(_ queue: QueueKey) throws -> (next: Int64, range: QueueRange)? {
        guard let range = try store.queueRange(queue) else { return nil }
        let cursor: Int64
        if let c = cursors.withLock({ $0[queue] }) {
            cursor = c
        } else {
            cursor = try store.consumerOffset(group: group, queue: queue) ?? range.min
        }
        return (min(max(cursor, range.min), range.max), range)
    }

    /// Entries from the cursor, at most `maxCount` (empty at the end of the queue).
    func entries(_ queue: QueueKey, maxCount: Int) throws -> [ConsumeQueueEntry] {
        guard let (next, range) = try position(queue), next < range.max else { return [] }
        return try store.entries(queue, from: next, maxCount: min(maxCount, Int(range.max - next)))
    }

    /// Messages from the cursor, at most `maxCount`, and the offset after them (the cursor when none).
    func messages(_ queue: QueueKey, maxCount: Int) throws -> (messages: [StoredMessage], next: Int64) {
        guard let (next, range) = try position(queue) else { return ([], 0) }
        guard next < range.max else { return ([], next) }
        let result = try store.getMessages(queue, from: next, maxCount: maxCount)
        return (result.messages, max(result.nextBeginOffset, next))
    }

    /// Moves the cursor to `offset` (the next to read) and commits it as the group's progress when durable.
    func advance(_ queue: QueueKey, to offset: Int64) throws {
        cursors.withLock { $0[queue] = offset }
        if commitsProgress { try store.commitConsumerOffset(group: group, queue: queue, offset: offset) }
    }

    /// Calls `wake` after every dispatch event `interest` accepts, until `stopWatching`.
    func watch(name: String, interest: @escaping @Sendable (DispatchEvent) -> Bool, wake: @escaping @Sendable () -> Void) {
        let sub = store.subscribe(name: name) { event in if interest(event) { wake() } }
        subscription.withLock { $0?.cancel(); $0 = sub }
    }

    func stopWatching() {
        subscription.withLock { $0?.cancel(); $0 = nil }
    }
}
