import Logging
import NIOConcurrencyHelpers
import TernStorage

/// Consumer offsets over the store (LMDB: durable, survives restarts). Consumers re-send unchanged
/// offsets constantly (every pull's commit flag, every 5 s persist), so a write is skipped when the stored
/// value is already the same; the cache only ever holds values known to be in the index store.
final class OffsetService: Sendable {
    private let store: MessageStore
    private let logger: Logger
    private let written = NIOLockedValueBox<[ConsumerOffsetKey: Int64]>([:])

    init(store: MessageStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func commit(group: String, queue: QueueKey, offset: Int64) {
        let key = ConsumerOffsetKey(group: group, queue: queue)
        // Check, write and cache under one lock so the cache never disagrees with the store (LMDB serialises
        // writers anyway).
        written.withLockedValue { cache in
            if cache[key] == offset { return }
            do {
                try store.commitConsumerOffset(group: group, queue: queue, offset: offset)
                cache[key] = offset
            } catch {
                cache[key] = nil
                logger.warning("cannot commit consumer offset", metadata: [
                    "group": "\(group)", "queue": "\(queue)", "error": "\(error)",
                ])
            }
        }
    }

    func committed(group: String, queue: QueueKey) -> Int64? {
        try? store.consumerOffset(group: group, queue: queue)
    }

    /// Every committed offset.
    func all() -> [ConsumerOffsetKey: Int64] { (try? store.consumerOffsets()) ?? [:] }
}
