import NIOConcurrencyHelpers
import TernProtocol

/// Queue locks for ordered consumption (features.md §3): per (group, queue) one holder and the time it last
/// locked. A lock is granted when the queue is free, already held by the same client (the lease is renewed),
/// or its lease (`leaseMillis` since the last renewal) has run out. Thread-safe.
final class LockManager: Sendable {
    private struct Holder {
        var clientId: String
        var lastUpdate: Int64
    }
    private let leaseMillis: Int64
    private let table = NIOLockedValueBox<[String: [MessageQueue: Holder]]>([:])

    init(leaseMillis: Int64) { self.leaseMillis = leaseMillis }

    /// Locks what it can of `queues` for `clientId`; returns the queues now held by it, sorted.
    func tryLock(group: String, clientId: String, queues: [MessageQueue], now: Int64) -> [MessageQueue] {
        table.withLockedValue { t in
            var locks = t[group] ?? [:]
            var granted: [MessageQueue] = []
            for q in Set(queues) {
                if let h = locks[q], h.clientId != clientId, now - h.lastUpdate <= leaseMillis { continue }
                locks[q] = Holder(clientId: clientId, lastUpdate: now)
                granted.append(q)
            }
            t[group] = locks
            return granted.sorted()
        }
    }

    /// Releases those of `queues` that `clientId` holds.
    func unlock(group: String, clientId: String, queues: [MessageQueue]) {
        table.withLockedValue { t in
            for q in queues where t[group]?[q]?.clientId == clientId { t[group]?[q] = nil }
            if t[group]?.isEmpty == true { t[group] = nil }
        }
    }

    /// The live holder of `queue` in `group`, if any.
    func holder(group: String, queue: MessageQueue, now: Int64) -> String? {
        table.withLockedValue { t in
            guard let h = t[group]?[queue], now - h.lastUpdate <= leaseMillis else { return nil }
            return h.clientId
        }
    }
}
