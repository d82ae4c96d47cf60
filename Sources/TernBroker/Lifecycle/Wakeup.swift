import Synchronization
import TernSystem

/// A level-triggered wake-up for one waiting task: `signal()` from any thread (the dispatcher's included: it
/// never blocks), `wait(untilWallMillis:clock:)` from the service's own task.
///
/// Invariants: at most one task waits at a time (the owning service loop); a signal with no waiter is kept
/// (`pending`) and ends the next wait at once, so a signal between a step and the following wait is never
/// lost. Several signals before a wait collapse into one.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Set by the cancellation handler of the current wait (it may run before the waiter is stored).
        var abandoned = false
    }
    private let state = Mutex(State())

    init() {}

    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Returns when signalled, when `clock` reaches `due` (nil: no deadline), or when the task is cancelled.
    /// The deadline is a wall time of `clock`; the real wait is the difference read now. A `ManualClock` moves
    /// only when told, so against one there is no real wait at all: whoever moves it calls `signal()`
    /// (else a real sleep would end with the clock still short of `due`, again and again).
    func wait(untilWallMillis due: Int64?, clock: any TernClock) async {
        if state.withLock({ s in defer { s.pending = false }; return s.pending }) { return }
        guard let due, !(clock is ManualClock) else { return await waitForSignal() }
        let millis = due - clock.wallMillis()
        guard millis > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask { try? await Task.sleep(for: .milliseconds(millis)) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        state.withLock { $0.abandoned = false }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending || s.abandoned {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.abandoned = true
                defer { s.waiter = nil }
                return s.waiter
            }
            w?.resume()
        }
    }
}
