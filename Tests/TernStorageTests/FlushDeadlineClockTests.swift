import Dispatch
import Synchronization
import Testing
import TernSystem
@testable import TernStorage

/// Sync-flush deadlines follow `StoreConfig.clock`: with a manual clock a waiter times out when the clock is moved
/// past its deadline, never before, and real time alone never times it out.
@Suite("The store's clock drives flush deadlines")
struct FlushDeadlineClockTests {
    @Test func syncFlushTimeoutFiresWhenTheManualClockPassesTheDeadlineAndNotBefore() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let clock = ManualClock()
        // A minute: far longer than the real-time wait below, so only the manual clock can expire the waiter.
        var config = smallConfig(dir, flush: .sync(timeoutMillis: 60_000))
        config.clock = clock
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        _ = try store.append(draft(body: "x"))

        // An end past the log: no flush round can satisfy it, only the deadline ends the wait.
        let outcome = Mutex<Durability?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.whenDurable(store.maxPhysicalOffset + 1) { d in
            outcome.withLock { $0 = d }
            done.signal()
        }
        clock.advance(millis: 59_999)
        store.flusher.expireWaiters()
        #expect(outcome.withLock { $0 } == nil, "timed out before the clock reached the deadline")

        clock.advance(millis: 1)
        // The flush thread checks deadlines on every pass while a waiter exists.
        #expect(done.wait(timeout: .now() + .seconds(10)) == .success, "the waiter did not time out")
        #expect(outcome.withLock { $0 } == .timedOut)
    }
}
