import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// `waitUntilDispatched` / `dispatched(_:timeout:)` are answered by the dispatcher's batch, not by polling.
@Suite("Waiting for the indexes")
struct DispatchWaitTests {
    @Test func blockingAndAsyncWaitsAreAnsweredByTheBatchThatCoversTheOffset() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir)).start()
        defer { store.close() }
        var last: AppendResult?
        for i in 0..<500 { last = try store.append(draft(queueId: Int32(i % 4), body: "m\(i)")) }
        let end = try #require(last).endOffset
        #expect(await store.dispatched(end))
        #expect(store.dispatchedOffset >= end)
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 3))?.max == 125)
        #expect(store.waitUntilDispatched(end))  // already covered: answered at once
    }

    @Test func aWaitForAnOffsetNeverWrittenTimesOutAndCloseReleasesTheRest() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir)).start()
        let beyond = store.maxPhysicalOffset + 1_000
        #expect(!store.waitUntilDispatched(beyond, timeoutMillis: 50))
        #expect(!(await store.dispatched(beyond, timeout: .milliseconds(50))))
        // A waiter pending at close is answered false by the close, long before its timeout.
        let waiting = Task.detached { store.waitUntilDispatched(beyond, timeoutMillis: 60_000) }
        let deadline = ContinuousClock.now + .seconds(10)
        while store.dispatcher.waiters.count == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        #expect(store.dispatcher.waiters.count == 1)
        let closed = ContinuousClock.now
        store.close()
        #expect(await waiting.value == false)
        #expect(ContinuousClock.now - closed < .seconds(30))
    }
}

/// The store takes "now" from `StoreConfig.clock`.
@Suite("Store clock")
struct StoreClockTests {
    @Test func storeTimesAndRetentionAgesComeFromTheConfiguredClock() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let clock = ManualClock(wallMillis: 4_000_000_000_000)
        var config = smallConfig(dir, segmentSize: 64 * 1024)
        config.clock = clock
        config.deleteWhenHours = nil  // any hour: only the ages decide
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let first = try store.append(draft(body: "a"))
        #expect(first.storeTimestamp == 4_000_000_000_000)
        clock.advance(millis: 1_500)
        #expect(try store.append(draft(body: "b")).storeTimestamp == 4_000_000_001_500)
        for i in 0..<200 { _ = try store.append(draft(body: String(repeating: "x", count: 1_000) + "\(i)")) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        #expect(store.segments.count > 2)
        // The segment files were written "now" by the system clock: 4e12 ms (year 2096) is long after that, so by the
        // store's clock they are past retention, and nothing else decides it.
        #expect(try store.runRetention() > 0)
        #expect(store.minPhysicalOffset > 0)
    }
}
