import NIOConcurrencyHelpers
import NIOCore
import TernStorage

/// Expiry of suspended pulls (see `HoldTable`): one sweep armed at a time, at the earliest deadline held.
extension PullService {
    /// A sweep also takes the holds due within this much after it, and a pull due less than this before the armed
    /// sweep does not re-arm it: a hold may be answered up to this much before or after its deadline (RocketMQ
    /// checks its holds every 5 s). So holds due close together end in one sweep and one write; taking only those
    /// already due split them (a consumer's eight pulls, parked a few µs apart, took a sweep for the first and
    /// another for the rest, and the first then came back early, period after period: 16 loop wake-ups a second
    /// for one idle consumer instead of one).
    static let sweepSpacingMillis: Int64 = 10

    /// Arms the sweep at `deadline` on `loop`, replacing the armed one. Called with the table locked.
    func armSweep(_ t: inout HoldTable, at deadline: NIODeadline, on loop: any EventLoop) {
        t.sweepsArmed += 1
        t.sweep?.cancel()
        t.sweepAt = deadline
        t.sweep = loop.scheduleTask(deadline: deadline) { [weak self] in self?.sweepDue() }
    }

    /// Whether parking a pull due at `deadline` must re-arm the sweep (none armed, or armed too late for it).
    static func sweepMustMove(_ t: HoldTable, for deadline: NIODeadline) -> Bool {
        t.sweepAt.map { deadline + .milliseconds(sweepSpacingMillis) < $0 } ?? true
    }

    /// The armed sweep: takes every pull due within `sweepSpacingMillis` from now, answers each with a fresh read
    /// on its own loop, and arms the next sweep at the earliest deadline left (beyond that window).
    private func sweepDue() {
        let horizon = NIODeadline.now() + .milliseconds(Self.sweepSpacingMillis)
        let due = holds.withLockedValue { t -> [PendingPull] in
            (t.sweep, t.sweepAt) = (nil, nil)
            var ids: [(QueueKey, Int)] = []
            var next: (at: NIODeadline, loop: any EventLoop)? = nil
            for (queue, waiting) in t.queues {
                for (id, p) in waiting {
                    if p.deadline <= horizon {
                        ids.append((queue, id))
                    } else if next.map({ p.deadline < $0.at }) ?? true {
                        next = (p.deadline, p.waiter.eventLoop)
                    }
                }
            }
            let taken = ids.compactMap { t.take($0.0, $0.1) }
            if let next, !t.closed {
                armSweep(&t, at: next.at, on: next.loop)
            }
            return taken
        }
        answerOnTheirLoops(due) { service, p in
            var answer = service.read(p, offset: p.offset)
            answer.trace = p.trace
            p.waiter.deliver(answer)
        }
    }

    /// Runs `answer` for each pull on the pull's event loop: one task per loop for all its pulls, whose answers to
    /// one connection then leave in one write (a dispatch batch touching eight queues of a consumer at the tail
    /// wakes eight pulls: eight tasks, eight `writev`s and eight reads on the client otherwise).
    func answerOnTheirLoops(_ pulls: [PendingPull], _ answer: @escaping @Sendable (PullService, PendingPull) -> Void) {
        if pulls.count == 1, let p = pulls.first { return p.waiter.eventLoop.execute { answer(self, p) } }
        var byLoop: [ObjectIdentifier: [PendingPull]] = [:]
        for p in pulls { byLoop[ObjectIdentifier(p.waiter.eventLoop), default: []].append(p) }
        for group in byLoop.values {
            group[0].waiter.eventLoop.execute {
                for p in group {
                    p.waiter.holdAnswersUntilTaskEnds()
                    answer(self, p)
                }
            }
        }
    }

    /// Whether a sweep is armed, and how many times one was (tests).
    var sweepArmed: Bool { holds.withLockedValue { $0.sweep != nil } }
    var sweepsArmed: Int { holds.withLockedValue { $0.sweepsArmed } }
}
