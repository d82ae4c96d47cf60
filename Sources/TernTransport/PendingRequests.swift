import NIOCore
import TernRemoting

/// A connection's requests awaiting their answer, with one timeout timer for all of them.
///
/// Invariant: while any request is pending, exactly one sweep timer is armed, for a time at or before the
/// earliest pending deadline (`armedFor`); it is replaced only by an earlier one. A sweep fails what expired
/// and arms the next timer for the earliest deadline left, so a request fails at its own deadline (never
/// before) whatever the timeouts of the requests around it. Answered requests leave no timer behind.
struct PendingRequests {
    struct Entry {
        var promise: EventLoopPromise<RemotingCommand>
        var code: Int
        var deadline: NIODeadline
    }

    private var entries: [Int32: Entry] = [:]
    /// When the armed sweep runs (nil: no timer armed).
    private(set) var armedFor: NIODeadline?
    private var timer: Scheduled<Void>?

    var count: Int { entries.count }

    /// Adds a request; true when the sweep must be armed for `deadline` (none armed, or armed later).
    mutating func insert(_ opaque: Int32, _ promise: EventLoopPromise<RemotingCommand>, code: Int,
                         deadline: NIODeadline) -> Bool {
        entries[opaque] = Entry(promise: promise, code: code, deadline: deadline)
        return armedFor.map { deadline < $0 } ?? true
    }

    /// Records the timer that now sweeps at `deadline`, cancelling the one it replaces.
    mutating func arm(at deadline: NIODeadline, _ scheduled: Scheduled<Void>) {
        timer?.cancel()
        timer = scheduled
        armedFor = deadline
    }

    mutating func remove(_ opaque: Int32) -> EventLoopPromise<RemotingCommand>? {
        entries.removeValue(forKey: opaque)?.promise
    }

    /// Called by the sweep timer: removes the entries due at `now`, and returns them with the earliest
    /// deadline left (the caller arms the next sweep for it). One pass over the table per sweep; with one
    /// timeout per connection a sweep comes about once per timeout, not once per request.
    mutating func expire(now: NIODeadline) -> (expired: [Entry], next: NIODeadline?) {
        timer = nil
        armedFor = nil
        var due: [Int32] = []
        var next: NIODeadline?
        for (opaque, e) in entries {
            if e.deadline <= now {
                due.append(opaque)
            } else if next.map({ e.deadline < $0 }) ?? true {
                next = e.deadline
            }
        }
        return (due.compactMap { entries.removeValue(forKey: $0) }, next)
    }

    /// Empties the table (the connection closed) and cancels the timer.
    mutating func removeAll() -> [EventLoopPromise<RemotingCommand>] {
        timer?.cancel()
        timer = nil
        armedFor = nil
        defer { entries = [:] }
        return entries.values.map(\.promise)
    }
}
