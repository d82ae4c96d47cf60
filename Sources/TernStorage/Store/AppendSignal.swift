import Synchronization

/// Wakes readers of the raw log (replication senders) as soon as an append is published, before it is
/// indexed: the dispatcher batches and naps between batches, and a SYNC_MASTER send waits for a slave's ack
/// of bytes the indexes need not hold yet.
///
/// Coalesced and cheap for the appender: one atomic read-modify-write per append, no allocation; the
/// handlers run only for the first append after a watcher armed the signal, on the appender's thread, so
/// they must be quick and never block (a wake of the watcher's own task).
///
/// Lost wakeups: a watcher that found nothing to read calls `arm()` and then reads the log end again; the
/// appender publishes its bytes (a release store) and then takes the flag. Both sides are read-modify-writes
/// of one atomic, so whichever comes second synchronizes with the first: either the appender sees the flag
/// or the watcher sees the bytes.
final class AppendSignal: Sendable {
    private let armed = Atomic<Bool>(false)
    /// Class references in one array (see `DispatchSubscribers`): copied out under the lock, no allocation.
    private let watchers = Mutex<[AppendWatch]>([])

    /// Called by the appender after publishing.
    func appended() {
        guard armed.exchange(false, ordering: .acquiringAndReleasing) else { return }
        for w in watchers.withLock({ $0 }) { w.handler() }
    }

    func arm() { _ = armed.exchange(true, ordering: .acquiringAndReleasing) }
    func add(_ w: AppendWatch) { watchers.withLock { $0.append(w) } }
    func remove(_ w: AppendWatch) { watchers.withLock { $0.removeAll { $0 === w } } }
}

/// One watcher of appends (see `MessageStore.watchAppends`). Dropping it does not unsubscribe: call `cancel()`.
public final class AppendWatch: Sendable {
    let handler: @Sendable () -> Void
    private weak let owner: AppendSignal?

    init(handler: @escaping @Sendable () -> Void, owner: AppendSignal) {
        self.handler = handler
        self.owner = owner
    }

    /// Asks for a call of the handler at the next append. Call it when the log end was read and nothing was
    /// left, then read the end again before waiting (an append in between is seen by that read).
    public func arm() { owner?.arm() }

    /// Stops the calls; one under way at this moment may still arrive.
    public func cancel() { owner?.remove(self) }
}

extension MessageStore {
    /// Calls `handler` on an appender's thread at the first append after `AppendWatch.arm()` (see
    /// `AppendSignal`). Quick and non-blocking handlers only: they run on the send path.
    public func watchAppends(_ handler: @escaping @Sendable () -> Void) -> AppendWatch {
        let watch = AppendWatch(handler: handler, owner: appends)
        appends.add(watch)
        return watch
    }
}
