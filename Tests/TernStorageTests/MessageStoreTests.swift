import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

@Suite("MessageStore on both index backends")
struct MessageStoreTests {
    @Test(arguments: Backend.allCases)
    func appendThenReadQueuesKeysAndIds(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        var results: [AppendResult] = []
        for i in 0..<200 {
            let d = draft(queueId: Int32(i % 4), body: "msg-\(i)", tags: i % 2 == 0 ? "even" : "odd",
                          keys: ["k\(i)", "group\(i % 10)"], uniqueKey: String(format: "%032X", i))
            results.append(try store.append(d))
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        // Queue offsets are dense per queue.
        for q in 0..<4 {
            let queue = QueueKey(topic: "TopicTest", queueId: Int32(q))
            #expect(try store.queueRange(queue) == QueueRange(min: 0, max: 50))
            let got = try store.getMessages(queue, from: 0, maxCount: 100)
            #expect(got.status == .found)
            #expect(got.messages.map(bodyString) == (0..<50).map { "msg-\($0 * 4 + q)" })
            #expect(got.messages.map { $0.record.queueOffset } == (0..<50).map(Int64.init))
            #expect(got.nextBeginOffset == 50)
        }
        // Tag filter by hash code: queue 1 holds only odd messages.
        let even = Int64(TagHash.javaHashCode("even"))
        let q0 = QueueKey(topic: "TopicTest", queueId: 0), q1 = QueueKey(topic: "TopicTest", queueId: 1)
        #expect(try store.getMessages(q0, from: 0, maxCount: 10) { $0 == even }.messages.count == 10)
        let none = try store.getMessages(q1, from: 0, maxCount: 10) { $0 == even }
        #expect(none.status == .noMatchedMessage && none.messages.isEmpty && none.nextBeginOffset == 50)
        // Statuses at the edges.
        #expect(try store.getMessages(q0, from: 50, maxCount: 1).status == .offsetOverflowOne)
        #expect(try store.getMessages(q0, from: 51, maxCount: 1).status == .offsetOverflowBadly)
        #expect(try store.getMessages(QueueKey(topic: "Nope", queueId: 0), from: 0, maxCount: 1).status == .noMatchedLogicQueue)
        // maxBytes bounds a batch (the first message always fits).
        let small = try store.getMessages(q0, from: 0, maxCount: 50, maxBytes: 1)
        #expect(small.messages.count == 1 && small.nextBeginOffset == 1)
        // Keys, unique keys, offset ids.
        let byKey = try store.lookup(topic: "TopicTest", key: "group3")
        #expect(byKey.map(bodyString) == [193, 183, 173, 163, 153, 143, 133, 123, 113, 103, 93, 83, 73, 63, 53, 43, 33, 23, 13, 3].prefix(20).map { "msg-\($0)" })
        #expect(try store.lookup(topic: "TopicTest", key: "k7").map(bodyString) == ["msg-7"])
        #expect(try store.lookup(topic: "OtherTopic", key: "k7").isEmpty)
        #expect(try store.lookup(topic: "TopicTest", key: "group3", limit: 2).count == 2)
        #expect(try store.lookup(uniqueKey: String(format: "%032X", 42)).map(bodyString) == ["msg-42"])
        let id = MessageId.offsetId(storeHost: localHost, physicalOffset: results[99].physicalOffset)
        #expect(store.lookup(offsetMessageId: id).map(bodyString) == "msg-99")
        #expect(store.message(at: results[5].physicalOffset)?.record.physicalOffset == results[5].physicalOffset)
        #expect(store.message(at: results[5].physicalOffset + 1) == nil)
    }

    /// `readMessages` tells its taker how many records the read can still take: what the queue holds from that
    /// record on, at most what the count asked allows (a pull sizes its answer by it).
    @Test(arguments: Backend.allCases)
    func aReadBoundsTheRecordsItCanStillTake(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        for i in 0..<10 { _ = try store.append(draft(queueId: 0, body: "msg-\(i)")) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let queue = QueueKey(topic: "TopicTest", queueId: 0)
        func bounds(from offset: Int64, maxCount: Int) throws -> [Int] {
            var seen: [Int] = []
            _ = try store.readMessages(queue, from: offset, maxCount: maxCount) { _, atMost in seen.append(atMost) }
            return seen
        }
        #expect(try bounds(from: 8, maxCount: 32) == [2, 1])  // at the tail: the 2 that exist, not 32
        #expect(try bounds(from: 0, maxCount: 4) == [4, 3, 2, 1])  // the count asked bounds it first
        #expect(try bounds(from: 0, maxCount: 32) == Array((1...10).reversed()))
    }

    @Test(arguments: Backend.allCases)
    func rollsSegmentsWithBlankFiller(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend, segmentSize: 64 * 1024)).start()
        let body = String(repeating: "x", count: 3000)
        for i in 0..<100 { _ = try store.append(draft(body: "\(i)-" + body)) }
        #expect(store.segments.count >= 4)
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let got = try store.getMessages(QueueKey(topic: "TopicTest", queueId: 0), from: 0, maxCount: 100, maxBytes: .max)
        #expect(got.messages.count == 100)
        #expect(got.messages.map { bodyString($0).prefix(while: { $0 != "-" }) } == (0..<100).map { Substring("\($0)") })
        store.close()
        // Reopen and keep appending: offsets continue.
        let again = try MessageStore.open(smallConfig(dir, backend, segmentSize: 64 * 1024)).start()
        defer { again.close() }
        #expect(try again.append(draft(body: "after")).queueOffset == 100)
    }

    @Test(arguments: Backend.allCases)
    func rejectsBadMessagesWithoutTouchingTheLog(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        let before = store.maxPhysicalOffset
        #expect(throws: StoreError.messageTooLarge(size: 64 * 1024 + 1, limit: 64 * 1024)) {
            _ = try store.append(draft(body: String(repeating: "a", count: 64 * 1024 + 1)))
        }
        #expect(throws: StoreError.self) { _ = try store.append(draft(topic: String(repeating: "t", count: 128), body: "x")) }
        #expect(throws: StoreError.self) { _ = try store.append(draft(topic: "", body: "x")) }
        #expect(store.maxPhysicalOffset == before)
        // The limit itself is accepted.
        _ = try store.append(draft(body: String(repeating: "a", count: 64 * 1024)))
    }

    @Test func secondOpenOfTheSameStoreIsRefused() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir)).start()
        #expect(throws: StoreError.storeLocked(path: dir.path + "/lock")) { _ = try MessageStore.open(smallConfig(dir)) }
        store.close()
        let again = try MessageStore.open(smallConfig(dir)).start()
        again.close()
    }

    @Test func cleanRestartReplaysNothingAndKeepsEverything() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        var store = try MessageStore.open(smallConfig(dir)).start()
        for i in 0..<500 { _ = try store.append(draft(queueId: Int32(i % 3), body: "m\(i)", keys: ["key\(i)"])) }
        try store.index.commitConsumerOffset(group: "G", queue: QueueKey(topic: "TopicTest", queueId: 1), offset: 42)
        let end = store.maxPhysicalOffset
        store.close()
        store = try MessageStore.open(smallConfig(dir)).start()
        defer { store.close() }
        #expect(store.recovery.replayedRecords == 0)
        #expect(store.recovery.checkpointAtOpen == end)
        #expect(store.recovery.validEnd == end && store.recovery.tailProblem == nil)
        #expect(try store.index.consumerOffset(group: "G", queue: QueueKey(topic: "TopicTest", queueId: 1)) == 42)
        #expect(try store.lookup(topic: "TopicTest", key: "key499").map(bodyString) == ["m499"])
        #expect(try store.append(draft(queueId: 1, body: "next")).queueOffset == 167)
    }

    @Test func inMemoryBackendRebuildsFromTheWholeLog() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        var store = try MessageStore.open(smallConfig(dir, .inMemory)).start()
        for i in 0..<300 { _ = try store.append(draft(queueId: Int32(i % 2), body: "m\(i)")) }
        store.close()
        store = try MessageStore.open(smallConfig(dir, .inMemory)).start()
        defer { store.close() }
        #expect(store.recovery.replayedRecords == 300)
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 1)) == QueueRange(min: 0, max: 150))
    }

    @Test(arguments: Backend.allCases)
    func offsetByTimestampAndEarliestTime(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        var times: [Int64] = []
        for i in 0..<30 {
            times.append(try store.append(draft(body: "m\(i)")).storeTimestamp)
            if i % 10 == 9 { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let q = QueueKey(topic: "TopicTest", queueId: 0)
        #expect(try store.earliestStoreTime(q) == times[0])
        #expect(try store.offset(forTimestamp: times[10], in: q) == Int64(times.firstIndex(of: times[10])!))
        #expect(try store.offset(forTimestamp: 0, in: q) == 0)
        #expect(try store.offset(forTimestamp: .max, in: q) == 30)
        #expect(try store.offset(forTimestamp: 5, in: QueueKey(topic: "none", queueId: 0)) == 0)
    }

    @Test func syncFlushGroupCommitAcknowledgesOnlyDurableRecords() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, flush: .defaultSync)).start()
        defer { store.close() }
        let ends = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<64 {
                group.addTask {
                    var last: Int64 = 0
                    for j in 0..<10 { last = try await store.appendDurably(draft(queueId: Int32(i % 8), body: "\(i)-\(j)")).endOffset
                        #expect(store.flushedOffset >= last) }
                    return last
                }
            }
            var all: [Int64] = []
            for try await e in group { all.append(e) }
            return all
        }
        #expect(ends.count == 64)
        #expect(store.flushedOffset >= ends.max()!)
    }

    @Test(arguments: Backend.allCases)
    func retentionDeletesOldSegmentsAndAdvancesQueueMinimums(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend, segmentSize: 64 * 1024)).start()
        defer { store.close() }
        let body = String(repeating: "r", count: 2000)
        for i in 0..<200 { _ = try store.append(draft(queueId: Int32(i % 2), body: body, keys: ["rk\(i)"])) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let segmentsBefore = store.segments.count
        #expect(try store.runRetention(now: Clock.wallMillis()) == 0)  // nothing is old yet
        let deleted = try store.runRetention(now: Clock.wallMillis() + store.config.retentionMillis + 60_000,
                                             trigger: .init(expired: true, forcibly: false))
        #expect(deleted == min(segmentsBefore - 1, store.config.retentionBatch))
        let minPhys = store.minPhysicalOffset
        #expect(minPhys > 0)
        let q0 = QueueKey(topic: "TopicTest", queueId: 0)
        let range = try #require(try store.queueRange(q0))
        #expect(range.min > 0 && range.max == 100)
        let tooSmall = try store.getMessages(q0, from: 0, maxCount: 1)
        #expect(tooSmall.status == .offsetTooSmall && tooSmall.nextBeginOffset == range.min)
        let first = try store.getMessages(q0, from: range.min, maxCount: 1).messages.first
        #expect(try #require(first).physicalOffset >= minPhys)
        #expect(try store.lookup(topic: "TopicTest", key: "rk0").isEmpty)
        #expect(try store.lookup(topic: "TopicTest", key: "rk199").count == 1)
    }

    @Test func releasedSegmentsStayReadable() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, .lmdb, segmentSize: 64 * 1024, flush: .defaultSync)).start()
        defer { store.close() }
        var results: [AppendResult] = []
        for i in 0..<60 { results.append(try store.appendDurablyBlocking(draft(body: "\(i)" + String(repeating: "p", count: 3000)))) }
        // Housekeeping may have released some already; after one explicit pass nothing is left to release.
        store.log.releaseFlushedSegments(flushed: store.flushedOffset)
        #expect(store.segments.count >= 3)
        #expect(store.log.releaseFlushedSegments(flushed: store.flushedOffset) == 0)
        for (i, r) in results.enumerated() {
            #expect(store.message(at: r.physicalOffset).map { bodyString($0).hasPrefix("\(i)p") } == true)
        }
    }
}
