import Dispatch
import Synchronization

/// Waiting for the indexes to cover a log offset, answered by the dispatcher (see `DispatchWaiters`).
extension MessageStore {
    /// Waits until the indexes cover `offset` (for tests, tools and benchmarks): resumed by the dispatcher after
    /// the batch that covers it, no polling. False on timeout, dispatch failure or close. Never call it on an
    /// event loop (it blocks); async code uses `dispatched(_:timeout:)`.
    public func waitUntilDispatched(_ offset: Int64, timeoutMillis: Int = 10_000) -> Bool {
        let outcome = Mutex<Bool?>(nil)
        let done = DispatchSemaphore(value: 0)
        let id = addDispatchWaiter(offset) { ok in outcome.withLock { $0 = ok }; done.signal() }
        if let id, done.wait(timeout: .now() + .milliseconds(timeoutMillis)) == .timedOut {
            if dispatcher.waiters.cancel(id) { return false }
            done.wait()  // resumed while timing out: take its answer
        }
        return outcome.withLock { $0 } ?? false
    }

    /// Async variant of `waitUntilDispatched`. The timeout runs as a sleeping task that finds nothing to do
    /// once the wait was answered.
    public func dispatched(_ offset: Int64, timeout: Duration = .seconds(10)) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            guard let id = addDispatchWaiter(offset, { c.resume(returning: $0) }) else { return }
            Task { [dispatcher] in
                try? await Task.sleep(for: timeout)
                if dispatcher.waiters.cancel(id) { c.resume(returning: false) }
            }
        }
    }

    private func addDispatchWaiter(_ offset: Int64, _ resume: @escaping @Sendable (Bool) -> Void) -> UInt64? {
        let id = dispatcher.waiters.add(offset, dispatched: { dispatcher.dispatched }, failed: {
            dispatcher.failed != nil || isClosed.load(ordering: .acquiring)
        }, resume)
        if id != nil { dispatcher.wake() }
        return id
    }
}
