import Dispatch
import Synchronization
import Testing
@testable import TernStorage

/// The async flush takes its settings from `setAsyncFlush` at its next round, without a restart: a flush the old
/// settings would hold back for an hour happens as soon as the new ones allow it.
@Suite("Async flush settings change while the store runs")
struct AsyncFlushSettingsTests {
    /// Signals every msync round the flush thread makes.
    final class Rounds: StoreObserver {
        let semaphore = DispatchSemaphore(value: 0)
        func flushed(bytes: Int64, nanos: UInt64) { semaphore.signal() }
        func dispatched(records: Int, nanos: UInt64) {}
    }

    /// Waits (with a deadline) until the log is durable up to its write position. A round signals before it
    /// publishes the flushed offset, so the condition is re-read at least every 10 ms, not only on a signal.
    func waitFlushed(_ store: MessageStore, _ rounds: Rounds) -> Bool {
        let deadline = DispatchTime.now() + .seconds(10)
        while store.flushedOffset < store.maxPhysicalOffset {
            guard DispatchTime.now() < deadline else { return false }
            _ = rounds.semaphore.wait(timeout: min(deadline, .now() + .milliseconds(10)))
        }
        return true
    }

    @Test func changedLeastPagesAndIntervalAreWhatTheFlushThreadUses() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let rounds = Rounds()
        var config = smallConfig(dir, flush: .async)
        // An hour between rounds and more dirty pages than the test writes: these settings never flush here.
        let never = AsyncFlushSettings(intervalMillis: 3_600_000, leastPages: 1 << 20, thoroughIntervalMillis: 3_600_000)
        config.asyncFlush = never
        config.observer = rounds
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        #expect(store.asyncFlush == never)

        _ = try store.append(draft(body: "first"))
        #expect(store.flushedOffset < store.maxPhysicalOffset)

        // Any dirty page is enough now; the change wakes the thread, whose round uses the new value.
        store.setAsyncFlush(AsyncFlushSettings(intervalMillis: 3_600_000, leastPages: 0, thoroughIntervalMillis: 3_600_000))
        #expect(waitFlushed(store, rounds), "the new leastPages was not used")

        // A short interval: an append (which never wakes the async flusher) is flushed by the next timed round.
        store.setAsyncFlush(AsyncFlushSettings(intervalMillis: 20, leastPages: 0, thoroughIntervalMillis: 3_600_000))
        _ = try store.append(draft(body: "second"))
        #expect(waitFlushed(store, rounds), "the new interval was not used")
        #expect(store.asyncFlush.intervalMillis == 20)
    }

    /// Sync mode keeps the settings (shown, persisted by the broker) without using them, as RocketMQ does.
    @Test func syncModeKeepsButDoesNotUseThem() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, flush: .defaultSync)).start()
        defer { store.close() }
        let settings = AsyncFlushSettings(intervalMillis: 3_600_000, leastPages: 1 << 20, thoroughIntervalMillis: 0)
        store.setAsyncFlush(settings)
        #expect(store.asyncFlush == settings)
        // An hour-long interval would hold this append for an hour if the sync flusher used it.
        let r = try await store.appendDurably(draft(body: "x"))
        #expect(store.flushedOffset >= r.endOffset)
    }
}
