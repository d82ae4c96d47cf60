import Dispatch
import Synchronization
import Testing
import TernSystem
@testable import TernStorage

/// Group commit (sync flush): one round completes every waiter its msync covers and keeps the others in
/// registration order for the next round or their deadline; many producers waiting at once all hear.
@Suite("Group commit releases waiters by offset and deadline")
struct GroupCommitTests {
    @Test func aRoundCompletesCoveredWaitersAndKeepsLaterOnesUntilTheirDeadline() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let clock = ManualClock()
        var config = smallConfig(dir, flush: .sync(timeoutMillis: 60_000))
        config.clock = clock
        // Not started: both waiters are pending when the first round runs, so it must pick the covered one out.
        let store = try MessageStore.open(config)
        defer { store.close() }
        let first = try store.append(draft(body: "a"))

        // Registered first, ends past the log: no round covers it, so the partition must keep it pending.
        let beyond = Mutex<Durability?>(nil)
        let beyondDone = DispatchSemaphore(value: 0)
        store.whenDurable(store.maxPhysicalOffset + 1) { d in
            beyond.withLock { $0 = d }
            beyondDone.signal()
        }
        let covered = Mutex<Durability?>(nil)
        let coveredDone = DispatchSemaphore(value: 0)
        store.whenDurable(first.endOffset) { d in
            covered.withLock { $0 = d }
            coveredDone.signal()
        }
        #expect(covered.withLock { $0 } == nil)
        store.start()
        #expect(coveredDone.wait(timeout: .now() + .seconds(10)) == .success, "the covered waiter was not released")
        #expect(covered.withLock { $0 } == .durable)
        #expect(store.flushedOffset >= first.endOffset)
        #expect(beyond.withLock { $0 } == nil, "a waiter past the flushed end was released")

        clock.advance(millis: 60_000)
        #expect(beyondDone.wait(timeout: .now() + .seconds(10)) == .success, "the later waiter never timed out")
        #expect(beyond.withLock { $0 } == .timedOut)
    }

    @Test func manyConcurrentProducersAreAllDurableAtTheirEnds() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, segmentSize: 8 << 20, flush: .sync(timeoutMillis: 60_000))).start()
        defer { store.close() }
        let producers = 64, each = 20
        let ends = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for p in 0..<producers {
                group.addTask {
                    var ends: [Int64] = []
                    for i in 0..<each {
                        let r = try await store.appendDurably(draft(queueId: Int32(p % 4), body: "p\(p)-\(i)"))
                        // Durable means flushed past the record's end when the wait returns.
                        #expect(store.flushedOffset >= r.endOffset)
                        ends.append(r.endOffset)
                    }
                    return ends
                }
            }
            var all: [Int64] = []
            for try await e in group { all += e }
            return all
        }
        #expect(ends.count == producers * each)
        #expect(Set(ends).count == ends.count)
        #expect(store.flushedOffset == store.maxPhysicalOffset)
    }

    /// Every msync of the tail write-protects whole folios (the group commit every round, the async flush every
    /// interval): a store prefaults its log into single-page folios in both modes (see
    /// `MappedFile.prefault(_:singlePages:)`).
    @Test func bothFlushModesPrefaultSinglePages() throws {
        for flush in [StoreConfig.FlushMode.sync(timeoutMillis: 1_000), .defaultAsync] {
            let dir = TempDir(); defer { dir.cleanup() }
            let store = try MessageStore.open(smallConfig(dir, flush: flush))
            defer { store.close() }
            #expect(store.log.singlePagePrefault, "\(flush)")
        }
    }
}
