import Foundation
import Synchronization
import Testing
@testable import TernStorage

/// Woken from idle by an append, the dispatcher lets the records that follow join its batch for
/// `dispatchGatherMicros` (one index commit for all of them), and commits at once when `Dispatcher.gatherBytes`
/// are pending.
@Suite struct DispatchGatherTests {
    /// The size of every applied index batch.
    final class Batches: StoreObserver {
        let sizes = Mutex<[Int]>([])
        func flushed(bytes: Int64, nanos: UInt64) {}
        func dispatched(records: Int, nanos: UInt64) { sizes.withLock { $0.append(records) } }
    }

    /// A started store whose dispatcher has indexed one record and gone idle.
    static func idleStore(_ dir: TempDir, gatherMicros: Int, _ batches: Batches) throws -> MessageStore {
        var config = smallConfig(dir)
        config.dispatchGatherMicros = gatherMicros
        config.observer = batches
        let store = try MessageStore.open(config).start()
        let first = try store.append(draft(body: "first")).endOffset
        #expect(store.waitUntilDispatched(first, timeoutMillis: 30_000))
        // Lets the thread get from the batch that resumed the wait back to its idle sleep.
        Thread.sleep(forTimeInterval: 0.05)
        return store
    }

    @Test func recordsAppendedWhileGatheringShareOneCommit() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let batches = Batches()
        // Wide, so the paced appends below (20 over ~20 ms, each of which woke the thread before) all land in it.
        let store = try Self.idleStore(dir, gatherMicros: 3_000_000, batches)
        defer { store.close() }
        var last: Int64 = 0
        for i in 0..<20 {
            last = try store.append(draft(body: "m\(i)")).endOffset
            Thread.sleep(forTimeInterval: 0.001)
        }
        #expect(store.waitUntilDispatched(last, timeoutMillis: 30_000))
        #expect(batches.sizes.withLock { Array($0.dropFirst()) } == [20])
    }

    @Test func enoughPendingBytesEndTheGatherAtOnce() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        var config = smallConfig(dir)
        // A gather far longer than the wait below: only the byte threshold can end it in time.
        config.dispatchGatherMicros = 600_000_000
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let body = String(repeating: "b", count: 1_000)
        // The append after which this holds saw at least as much pending when it woke the thread (the dispatched
        // offset only grows).
        var last: Int64 = 0
        while store.dispatchLagBytes < Dispatcher.gatherBytes { last = try store.append(draft(body: body)).endOffset }
        #expect(store.waitUntilDispatched(last, timeoutMillis: 30_000))
    }
}
