import TernClient
import TernProtocol

/// The gateway's view of one queue for one group: what was pulled and not yet acknowledged, and how far the
/// group may commit.
///
///     committed <= (every pending offset) < next
///
/// `pending` holds each pulled message until it is acked or sent back; a message is ready for delivery when
/// it was never delivered or its invisibility ran out. The group's committed offset is the lowest pending
/// offset (or `next` when nothing is pending): everything below it was acknowledged, which is
/// at-least-once — a crash or restart of the gateway redelivers what was pending.
struct QueueCursor: Sendable {
    struct Pending: Sendable {
        var message: ReceivedMessage
        /// Nil: never delivered. Otherwise the delivery's number and when it becomes visible again.
        var delivery: UInt64?
        var visibleAt: ContinuousClock.Instant
    }

    let queue: MessageQueue
    /// Nil until the group's committed offset was read from the broker.
    var next: Int64?
    private(set) var pending: [Int64: Pending] = [:]
    /// The committed offset last written to the broker.
    var lastCommitted: Int64?
    /// A pull (or the initial offset query) is under way; only one at a time per queue.
    var busy = false
    /// Pulls pause until then after a failure.
    var backoffUntil: ContinuousClock.Instant?

    init(queue: MessageQueue) {
        self.queue = queue
    }

    /// The offset the group may commit: the lowest unacknowledged one.
    var committable: Int64? {
        guard let next else { return nil }
        return pending.keys.min() ?? next
    }

    /// Stores a pull's messages when it started at `from` and nothing moved `next` meanwhile.
    mutating func accept(_ messages: [ReceivedMessage], from: Int64, nextBeginOffset: Int64, now: ContinuousClock.Instant) -> Bool {
        guard next == from else { return false }
        for m in messages where pending[m.queueOffset] == nil {
            pending[m.queueOffset] = Pending(message: m, delivery: nil, visibleAt: now)
        }
        next = max(from, nextBeginOffset)
        return !messages.isEmpty
    }

    /// Offsets of messages ready for delivery, lowest first, at most `limit`, accepted by `filter`.
    func ready(now: ContinuousClock.Instant, limit: Int, filter: (ReceivedMessage) -> Bool) -> [Int64] {
        pending.filter { $0.value.visibleAt <= now && filter($0.value.message) }.keys.sorted().prefix(limit).map { $0 }
    }

    /// Marks `offset` delivered as `delivery`, invisible until `until`.
    mutating func deliver(_ offset: Int64, delivery: UInt64, until: ContinuousClock.Instant) -> ReceivedMessage? {
        guard var p = pending[offset] else { return nil }
        p.delivery = delivery
        p.visibleAt = until
        pending[offset] = p
        return p.message
    }

    /// The pending message of the delivery `delivery` of `offset` (nil: acked, sent back or delivered again).
    func delivered(_ offset: Int64, delivery: UInt64) -> ReceivedMessage? {
        guard let p = pending[offset], p.delivery == delivery else { return nil }
        return p.message
    }

    /// Acknowledges that delivery; false when the handle is stale.
    mutating func ack(_ offset: Int64, delivery: UInt64) -> Bool {
        guard delivered(offset, delivery: delivery) != nil else { return false }
        pending[offset] = nil
        return true
    }

    /// The earliest time a delivered message becomes visible again, if any is invisible now.
    func nextVisibility(after now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        pending.values.lazy.map(\.visibleAt).filter { $0 > now }.min()
    }
}
