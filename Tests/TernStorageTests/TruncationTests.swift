import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// Durable truncation of a live store: the bytes are gone from disk, the indexes and consumer offsets follow,
/// appends continue there, and all of it survives a reopen.
@Suite struct TruncationTests {
    static let segmentSize = 64 * 1024

    static func fill(_ store: MessageStore, count: Int) throws -> [AppendResult] {
        try (0..<count).map { i in
            try store.append(draft(topic: "T\(i % 2)", queueId: Int32(i % 3), body: String(repeating: "b\(i)", count: 300),
                                   keys: ["k\(i)"]))
        }
    }

    @Test func truncationErasesTheTailDurablyAndSurvivesReopen() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let config = smallConfig(dir, segmentSize: Self.segmentSize)
        let cutIndex = 90
        let (cut, expectedQueues): (Int64, [QueueKey: QueueRange])
        do {
            let store = try MessageStore.open(config).start()
            let results = try Self.fill(store, count: 200)
            #expect(store.segments.count >= 3)
            #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
            cut = results[cutIndex].physicalOffset
            let q0 = QueueKey(topic: "T0", queueId: 0)
            try store.commitConsumerOffset(group: "G", queue: q0, offset: 60)
            try store.commitConsumerOffset(group: "G", queue: QueueKey(topic: "T1", queueId: 1), offset: 3)

            #expect(throws: StoreError.self) { try store.truncate(to: cut + 1) }  // inside a record
            // A segment prepared ahead of the old end must not survive as a gap after the cut.
            let ahead = try #require(store.segments.last).end
            _ = try MappedFile.open(path: segmentPath(dir, base: ahead), size: Self.segmentSize, create: true)
            try store.truncate(to: cut)
            #expect(store.maxPhysicalOffset == cut)
            #expect(store.segments.last.map { $0.base <= cut && cut < $0.end } == true)
            #expect(store.message(at: results[cutIndex - 1].physicalOffset) != nil)
            #expect(store.message(at: cut) == nil)
            expectedQueues = try store.queues()
            for (q, range) in expectedQueues {
                let lastBelow = results[..<cutIndex].enumerated().filter { i, _ in QueueKey(topic: "T\(i % 2)", queueId: Int32(i % 3)) == q }
                #expect(range.max == Int64(lastBelow.count), "\(q)")
            }
            // T0/0 holds the records i ≡ 0 (mod 6) below 90: 15 of them, so the committed 60 is clamped to 15.
            #expect(try store.consumerOffset(group: "G", queue: q0) == 15)
            #expect(try store.consumerOffset(group: "G", queue: QueueKey(topic: "T1", queueId: 1)) == 3)
            #expect(try store.lookup(topic: "T0", key: "k\(cutIndex)").isEmpty)
            // Appends continue at the cut with each queue's next offset.
            let again = try store.append(draft(topic: "T0", queueId: 0, body: "after"))
            #expect(again.physicalOffset == cut && again.queueOffset == 15)
            #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
            store.close()
        }
        // On disk: the segment's bytes after the new record are zeros, later segments are gone.
        let segment = segmentPath(dir, base: cut - cut % Int64(Self.segmentSize))
        let file = try MappedFile.openReadOnly(path: segment)
        let afterNew = Int(cut % Int64(Self.segmentSize)) + 4096
        #expect(file.bytes(afterNew..<file.size).allSatisfy { $0 == 0 })
        let names = try FileSystem.listDirectory(dir.path + "/commitlog").sorted()
        #expect(names.last == Segment.fileName(base: cut - cut % Int64(Self.segmentSize)))

        let store = try MessageStore.open(config).start()
        defer { store.close() }
        #expect(store.recovery.tailProblem == nil)
        #expect(try store.consumerOffset(group: "G", queue: QueueKey(topic: "T0", queueId: 0)) == 15)
        let reopened = try store.queues()
        for (q, range) in expectedQueues {
            let plus: Int64 = q == QueueKey(topic: "T0", queueId: 0) ? 1 : 0
            #expect(reopened[q]?.max == range.max + plus, "\(q)")
        }
        let next = try store.append(draft(topic: "T1", queueId: 1, body: "later"))
        #expect(next.queueOffset == expectedQueues[QueueKey(topic: "T1", queueId: 1)]!.max)
    }

    @Test func truncationAtASegmentBaseKeepsThatSegment() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, segmentSize: Self.segmentSize)).start()
        defer { store.close() }
        let results = try Self.fill(store, count: 200)
        let second = try #require(store.segments.dropFirst().first).base
        let lastBefore = try #require(results.last { $0.physicalOffset < second })
        try store.truncate(to: second)
        #expect(store.maxPhysicalOffset == second)
        #expect(try store.indexCheckpoint() == DispatchCheckpoint(offset: second, lastRecord: lastBefore.physicalOffset))
        let r = try store.append(draft(topic: "T0", queueId: 0, body: "x"))
        #expect(r.physicalOffset == second)
    }
}
