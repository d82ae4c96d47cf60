import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import TernRemoting
import TernStorage

/// Suspended pulls, per queue and id.
///
/// Ownership invariant: a pull in the table is answered by whoever removes it (a wake-up, its timer, a closed
/// connection, shutdown), exactly once; a woken pull that still finds nothing is put back under the same id,
/// so its one timer still applies. Wake-ups and timers both run on the pull's connection event loop.
struct HoldTable: Sendable {
    var queues: [QueueKey: [Int: PendingPull]] = [:]
    var nextId = 0
    var closed = false

    mutating func take(_ queue: QueueKey, _ id: Int) -> PendingPull? {
        guard let p = queues[queue]?.removeValue(forKey: id) else { return nil }
        if queues[queue]?.isEmpty == true { queues.removeValue(forKey: queue) }
        return p
    }
}

extension PullService {
    /// Parks `pending` (nothing to read yet) until a message for its queue is indexed or `timeoutMillis` pass.
    func suspend(_ pending: PendingPull, timeoutMillis: Int64) {
        var p = pending
        p.deadline = .now() + .milliseconds(timeoutMillis)
        p.id = holds.withLockedValue { $0.nextId += 1; return $0.nextId }
        let loop = p.waiter.eventLoop
        let (queue, id) = (p.queue, p.id)
        armedHoldTimers.add(1, ordering: .relaxed)
        p.timer = loop.scheduleTask(deadline: p.deadline) { [weak self] in
            guard let self, let timedOut = self.holds.withLockedValue({ $0.take(queue, id) }) else { return }
            self.armedHoldTimers.subtract(1, ordering: .relaxed)
            var answer = self.read(timedOut, offset: timedOut.offset)
            answer.trace = timedOut.trace
            timedOut.waiter.deliver(answer)
        }
        park(p)
    }

    /// Disarms the hold timer of a pull that is answered (or dropped) before its deadline. Left armed, every
    /// answered hold kept a task in its loop's timer heap until the deadline (one per pull: thousands per second
    /// at a steady rate, each a heap insert and removal and a loop wake-up at its deadline that found nothing).
    /// Cancelling is a lock and a linear scan of the loop's pending timers (NIO's `removeFirst(where:)`), which
    /// are now about the pulls held on that loop, not every pull of the last hold period. A timer already taken
    /// to run still finds its pull gone from the table and does nothing (the ownership invariant above). Called
    /// once, by ``end(_:answering:)``: every end of a taken pull other than its timer goes through it, so
    /// `armedHoldTimers` counts each hold down exactly once.
    private func disarm(_ p: PendingPull) {
        guard let timer = p.timer else { return }
        timer.cancel()
        armedHoldTimers.subtract(1, ordering: .relaxed)
    }

    /// Ends a pull taken from the table (or never parked) by anyone but its timer: disarms the timer, then
    /// delivers `answer` (nil: nobody is left to answer).
    private func end(_ p: PendingPull, answering answer: PullOutcome?) {
        disarm(p)
        if let answer { p.waiter.deliver(answer) }
    }

    /// Puts `p` in the table, then re-checks the queue: a message indexed between the read that found nothing
    /// and the insertion would otherwise wait for the timeout.
    private func park(_ p: PendingPull) {
        let parked = holds.withLockedValue { t -> Bool in
            if t.closed { return false }
            t.queues[p.queue, default: [:]][p.id] = p
            return true
        }
        guard parked else { return end(p, answering: read(p, offset: p.offset)) }
        if let range = try? context.store.queueRange(p.queue), range.max > p.offset,
           let again = holds.withLockedValue({ $0.take(p.queue, p.id) }) {
            again.waiter.eventLoop.execute { self.wake(again) }
        }
    }

    /// Dispatcher hook (dispatcher thread): wakes the pulls of each touched queue that wait below its new max.
    func messagesArrived(_ touched: [QueueKey: Int64]) {
        var woken = holds.withLockedValue { t -> [PendingPull] in
            if t.queues.isEmpty { return [] }
            var out: [PendingPull] = []
            for (queue, max) in touched {
                guard let waiting = t.queues[queue] else { continue }
                for (id, p) in waiting where p.offset < max {
                    if let taken = t.take(queue, id) { out.append(taken) }
                }
            }
            return out
        }
        if PullTrace.enabled, !woken.isEmpty {
            let now = PullTrace.now
            for i in woken.indices { woken[i].trace?.arrived = now }
        }
        // One task per event loop for all its woken pulls (not one each), and their answers to one connection
        // leave in one write: a dispatch batch that touches eight queues of a consumer at the tail wakes eight
        // pulls, which cost eight tasks, eight `writev`s and eight reads on the client.
        if woken.count == 1, let p = woken.first { return p.waiter.eventLoop.execute { self.wake(p) } }
        var byLoop: [ObjectIdentifier: [PendingPull]] = [:]
        for p in woken { byLoop[ObjectIdentifier(p.waiter.eventLoop), default: []].append(p) }
        for pulls in byLoop.values {
            pulls[0].waiter.eventLoop.execute {
                for p in pulls {
                    p.waiter.holdAnswersUntilTaskEnds()
                    self.wake(p)
                }
            }
        }
    }

    /// Re-reads a woken pull: answers when it found something (or anything but "nothing yet"); a read that
    /// found only filtered-out messages, or nothing, parks again from the advanced offset until the deadline.
    private func wake(_ pending: PendingPull) {
        var p = pending
        p.trace?.woken = PullTrace.now
        var answer = read(p, offset: p.offset)
        let nothingYet = answer.code == ResponseCode.pullNotFound || answer.status == .noMatchedMessage
        guard nothingYet, NIODeadline.now() < p.deadline else {
            answer.trace = p.trace
            return end(p, answering: answer)
        }
        p.offset = answer.nextBeginOffset
        park(p)
    }

    /// Drops the pulls of a closed channel (nobody is left to answer).
    func channelClosed(_ channel: any ClientChannel) {
        let dropped = holds.withLockedValue { t -> [PendingPull] in
            var out: [PendingPull] = []
            for (queue, waiting) in t.queues {
                for (id, p) in waiting where p.waiter.channelId == channel.id { if let taken = t.take(queue, id) { out.append(taken) } }
            }
            return out
        }
        for p in dropped { end(p, answering: nil) }
    }

    /// Stops long polling: answers every suspended pull now and answers later ones at once.
    func shutdown() {
        stopWatchingArrivals()
        let all = holds.withLockedValue { t -> [PendingPull] in
            t.closed = true
            defer { t.queues = [:] }
            return t.queues.values.flatMap(\.values)
        }
        for p in all { end(p, answering: read(p, offset: p.offset)) }
    }

    /// Number of suspended pulls (tests, statistics).
    var suspendedCount: Int { holds.withLockedValue { $0.queues.values.reduce(0) { $0 + $1.count } } }
}
