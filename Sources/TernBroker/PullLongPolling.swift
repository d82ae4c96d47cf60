import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import TernRemoting
import TernStorage

/// Suspended pulls, per queue and id, and the one sweep that answers those whose deadline passed.
///
/// Ownership invariant: a pull in the table is answered by whoever removes it (a wake-up, the sweep, a closed
/// connection, shutdown), exactly once; a woken pull that still finds nothing is put back under the same id with
/// its deadline. Wake-ups and expiries are answered on the pull's connection event loop.
///
/// Expiry: no timer per pull (each had cost a scheduled task, its promise and closure, and a cancel scanning the
/// loop's timer heap, for every hold a message ended first: nearly all of them at a steady rate). One sweep is
/// armed at a time, at the earliest deadline in the table; it takes the pulls due by then or within
/// `PullService.sweepSpacingMillis` after, and arms the next. None is armed while nothing is held.
///
/// A queue's inner table stays when it empties, keeping its capacity: parking a pull on that queue again allocates
/// nothing (a pull at the tail parks once per message it is woken for). `held` counts the pulls in all of them.
struct HoldTable: Sendable {
    private(set) var queues: [QueueKey: [Int: PendingPull]] = [:]
    private(set) var held = 0
    var nextId = 0
    var closed = false
    /// When the armed sweep runs (nil: none armed), and its task.
    var sweepAt: NIODeadline? = nil
    var sweep: Scheduled<Void>? = nil
    var sweepsArmed = 0

    mutating func insert(_ p: PendingPull) {
        if queues[p.queue, default: [:]].updateValue(p, forKey: p.id) == nil { held += 1 }
    }

    mutating func take(_ queue: QueueKey, _ id: Int) -> PendingPull? {
        guard let p = queues[queue]?.removeValue(forKey: id) else { return nil }
        held -= 1
        return p
    }

    /// Takes the pulls of `queue` waiting below `max` into `out`: in place, one lookup of the queue, and when all
    /// of them go (the usual case: every pull at the tail waits at the old end) one `removeAll`.
    mutating func takeWaiting(_ queue: QueueKey, below max: Int64, into out: inout [PendingPull]) {
        guard let i = queues.index(forKey: queue), !queues.values[i].isEmpty else { return }
        if queues.values[i].values.allSatisfy({ $0.offset < max }) {
            held -= queues.values[i].count
            out.append(contentsOf: queues.values[i].values)
            queues.values[i].removeAll(keepingCapacity: true)
            return
        }
        let ids = queues.values[i].compactMap { $0.value.offset < max ? $0.key : nil }
        for id in ids { if let p = queues.values[i].removeValue(forKey: id) { out.append(p); held -= 1 } }
    }

    /// Takes every pull (shutdown).
    mutating func takeAll() -> [PendingPull] {
        defer { (queues, held) = ([:], 0) }
        return queues.values.flatMap(\.values)
    }
}

extension PullService {
    /// Parks `pending` (nothing to read yet) until a message for its queue is indexed or `timeoutMillis` pass.
    func suspend(_ pending: PendingPull, timeoutMillis: Int64) {
        var p = pending
        p.deadline = .now() + .milliseconds(timeoutMillis)
        p.id = holds.withLockedValue { $0.nextId += 1; return $0.nextId }
        park(p)
    }

    /// Ends a pull taken from the table (or never parked): delivers `answer` (nil: nobody is left to answer).
    private func end(_ p: PendingPull, answering answer: PullOutcome?) {
        if let answer { p.waiter.deliver(answer) }
    }

    /// Puts `p` in the table (arming the sweep when `p` is due before it), then re-checks the queue: a message
    /// indexed between the read that found nothing and the insertion would otherwise wait for the timeout.
    private func park(_ p: PendingPull) {
        let parked = holds.withLockedValue { t -> Bool in
            if t.closed { return false }
            t.insert(p)
            if Self.sweepMustMove(t, for: p.deadline) { armSweep(&t, at: p.deadline, on: p.waiter.eventLoop) }
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
            if t.held == 0 { return [] }
            var out: [PendingPull] = []
            for (queue, max) in touched { t.takeWaiting(queue, below: max, into: &out) }
            return out
        }
        if PullTrace.enabled, !woken.isEmpty {
            let now = PullTrace.now
            for i in woken.indices { woken[i].trace?.arrived = now }
        }
        answerOnTheirLoops(woken) { service, p in service.wake(p) }
    }

    /// Re-reads a woken pull: answers when it found something (or anything but "nothing yet"); a read that
    /// found only filtered-out messages, or nothing, parks again from the advanced offset until the deadline.
    func wake(_ pending: PendingPull) {
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
            t.sweep?.cancel()
            (t.sweep, t.sweepAt) = (nil, nil)
            return t.takeAll()
        }
        for p in all { end(p, answering: read(p, offset: p.offset)) }
    }

    /// Number of suspended pulls (tests, statistics).
    var suspendedCount: Int { holds.withLockedValue { $0.held } }
}
