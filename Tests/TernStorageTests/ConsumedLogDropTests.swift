import Foundation
import Synchronization
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// Within the cap (`cachedLogBytes`), log every consumer group has read leaves the page cache once it is
/// `cachedConsumedLogBytes` behind the writer; unread messages of a queue nobody has committed on stay.
@Suite struct ConsumedLogDropTests {
    static let body = String(repeating: "x", count: 1_000)

    /// A started store with a cap far above what the test writes and a 128 KiB consumed window.
    static func open(_ dir: TempDir) throws -> MessageStore {
        var config = smallConfig(dir, flush: .sync(timeoutMillis: 5_000))
        config.cachedLogBytes = 1 << 30
        config.cachedConsumedLogBytes = 128 << 10
        return try MessageStore.open(config).start()
    }

    /// Appends ~5.6 MiB (past one 4 MiB drop step) to `topic`, durably, indexed; returns the log's end.
    static func fill(_ store: MessageStore, topic: String) throws -> Int64 {
        for i in 0..<5_500 { _ = try store.append(draft(topic: topic, body: "\(i)-" + body)) }
        let end = try store.appendDurablyBlocking(draft(topic: topic, body: "last")).endOffset
        #expect(store.waitUntilDispatched(end, timeoutMillis: 10_000))
        return end
    }

    /// Where the drops reach when everything but the consumed window may go: the last whole drop step below it.
    static func fullDrop(end: Int64) -> Int64 {
        let granule = CommitLog.cacheDropGranule
        return (end - (128 << 10)) / granule * granule
    }

    static func droppedBelow(_ store: MessageStore, reaching target: Int64, within seconds: Double) -> Int64 {
        let deadline = Date().addingTimeInterval(seconds)
        while store.log.cacheDroppedBelow.withLock({ $0 }) < target, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        return store.log.cacheDroppedBelow.withLock { $0 }
    }

    /// `body` with a started store (``open(_:)``) holding ~5.6 MiB on `topic` (``fill(_:topic:)``) and the log's end.
    static func withFilledStore(topic: String, _ body: (MessageStore, Int64) throws -> Void) throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let store = try open(dir)
        defer { store.close() }
        try body(store, try fill(store, topic: topic))
    }

    @Test func logEveryGroupReadLeavesTheCache() throws {
        try Self.withFilledStore(topic: "Orders") { store, end throws in
            let queue = QueueKey(topic: "Orders", queueId: 0)
            let read = try #require(try store.queueRange(queue)).max
            try store.commitConsumerOffset(group: "G", queue: queue, offset: read)
            #expect(try store.lowestUnconsumedOffset() == store.log.writePosition)
            let expected = Self.fullDrop(end: end)
            // The prefault thread re-reads what consumers want every 2 s.
            #expect(Self.droppedBelow(store, reaching: expected, within: 10) == expected)
            for segment in store.segments where segment.end <= expected {
                #expect(segment.file.residentPageCount(0..<segment.file.size) == 0)
            }
        }
    }

    @Test func unreadMessagesStayCached() throws {
        try Self.withFilledStore(topic: "Orders") { store, _ throws in
            // No group has committed on the queue: a new one may drain it all.
            #expect(try store.lowestUnconsumedOffset() == 0)
            // A group half way: what it has not read stays.
            let queue = QueueKey(topic: "Orders", queueId: 0)
            try store.commitConsumerOffset(group: "G", queue: queue, offset: 2_000)
            let next = try #require(try store.entries(queue, from: 2_000, maxCount: 1).first?.physicalOffset)
            #expect(try store.lowestUnconsumedOffset() == next)
            // Past one 2 s refresh of what consumers want: nothing at or above `next` leaves.
            Thread.sleep(forTimeInterval: 2.5)
            #expect(store.log.cacheDroppedBelow.withLock { $0 } <= next)
        }
    }

    /// An idle store stops reading what consumers want; a committed offset makes it read again.
    @Test func anIdleStoreReadsTheIndexOnlyAfterAnOffsetMoved() throws {
        try Self.withFilledStore(topic: "Orders") { store, end throws in
            let reads = { store.consumedFloor.reads.load(ordering: .relaxed) }
            // The first read comes with the thread's first pass; then the log stands still.
            #expect(Self.waitFor(within: 10) { reads() > 0 })
            Thread.sleep(forTimeInterval: 2.2)
            let idle = reads()
            // Past one 2 s refresh with nothing moved: no read.
            Thread.sleep(forTimeInterval: 2.5)
            #expect(reads() == idle)
            let queue = QueueKey(topic: "Orders", queueId: 0)
            try store.commitConsumerOffset(group: "G", queue: queue, offset: try #require(try store.queueRange(queue)).max)
            #expect(Self.waitFor(within: 10) { reads() > idle })
            let expected = Self.fullDrop(end: end)
            #expect(Self.droppedBelow(store, reaching: expected, within: 10) == expected)
        }
    }

    static func waitFor(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    @Test func systemTopicsDoNotHoldTheCache() throws {
        try Self.withFilledStore(topic: "%DLQ%G") { store, end throws in
            #expect(try store.lowestUnconsumedOffset() == store.log.writePosition)
            let expected = Self.fullDrop(end: end)
            #expect(Self.droppedBelow(store, reaching: expected, within: 10) == expected)
        }
    }
}
