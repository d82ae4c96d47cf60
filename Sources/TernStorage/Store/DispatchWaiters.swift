import Synchronization

/// Callers waiting for the indexes to cover a log offset (`MessageStore.waitUntilDispatched`). The dispatcher
/// resumes them after the batch that covers their offset; a dispatch failure or the store's close resumes the
/// rest with `false`. No polling: a waiter costs nothing until its batch is applied.
///
/// Race-free by ordering: the dispatcher publishes its new offset before `resume(upTo:)` takes the lock, and
/// `add` reads the offset under the same lock, so a waiter is either seen by the resume or answered at once.
final class DispatchWaiters: Sendable {
    /// One waiter; a class so the closure has one representation inside the Mutex (see `DispatchSubscribers`).
    final class Waiter: Sendable {
        let id: UInt64
        let offset: Int64
        let resume: @Sendable (Bool) -> Void
        init(id: UInt64, offset: Int64, resume: @escaping @Sendable (Bool) -> Void) {
            self.id = id
            self.offset = offset
            self.resume = resume
        }
    }

    private struct State {
        var nextId: UInt64 = 0
        var pending: [Waiter] = []
    }
    private let state = Mutex(State())

    /// Waiters pending now.
    var count: Int { state.withLock { $0.pending.count } }

    /// Registers `resume`, or calls it at once (true when `dispatched()` already covers `offset`, false when
    /// `failed()`). Returns the waiter's id while it is pending, for `cancel`.
    func add(_ offset: Int64, dispatched: () -> Int64, failed: () -> Bool,
             _ resume: @escaping @Sendable (Bool) -> Void) -> UInt64? {
        let (id, immediate): (UInt64?, Bool) = state.withLock { s in
            if dispatched() >= offset { return (nil, true) }
            if failed() { return (nil, false) }
            s.nextId += 1
            s.pending.append(Waiter(id: s.nextId, offset: offset, resume: resume))
            return (s.nextId, false)
        }
        if id == nil { resume(immediate) }
        return id
    }

    /// Removes a pending waiter without resuming it. False when it was already resumed (or being resumed).
    func cancel(_ id: UInt64) -> Bool {
        state.withLock { s in
            guard let i = s.pending.firstIndex(where: { $0.id == id }) else { return false }
            s.pending.remove(at: i)
            return true
        }
    }

    /// Resumes (true) every waiter at or below `offset`. Called by the dispatcher after each applied batch.
    func resume(upTo offset: Int64) {
        let due: [Waiter] = state.withLock { s in
            guard s.pending.contains(where: { $0.offset <= offset }) else { return [] }
            let due = s.pending.filter { $0.offset <= offset }
            s.pending.removeAll { $0.offset <= offset }
            return due
        }
        for w in due { w.resume(true) }
    }

    /// Resumes every waiter with false (dispatch failed, or the store closed).
    func releaseAll() {
        let all = state.withLock { s in defer { s.pending = [] }; return s.pending }
        for w in all { w.resume(false) }
    }
}
