import Testing
@testable import TernStorage

/// A queue gap (the queue offsets of records lost to log damage) is accepted only in batches that follow
/// damage, and both backends read, range and truncate across it.
@Suite("Index: queue gaps after damaged records")
struct IndexGapTests {
    static let q = QueueKey(topic: "T", queueId: 0)

    static func record(_ queueOffset: Int64) -> DispatchRecord {
        DispatchRecord(queueId: q.queueId, entry: ConsumeQueueEntry(queueOffset: queueOffset, physicalOffset: 100 * (queueOffset + 1),
                                                                    size: 100, tagCode: 0, storeTimestamp: 1))
    }

    static func index(_ backend: Backend, _ dir: TempDir) throws -> any IndexStore {
        backend == .lmdb ? try LMDBIndexStore(path: dir.path + "/index", mapSize: 1 << 26) : InMemoryIndexStore()
    }

    @Test(arguments: Backend.allCases)
    func gapsAreReadRangedAndTruncatedAcross(_ backend: Backend) throws {
        let dir = TempDir("gap-\(backend)"); defer { dir.cleanup() }
        let index = try Self.index(backend, dir)
        defer { index.close() }
        try index.apply(DispatchBatch(records: (0..<3).map(Self.record), topics: [Self.q.topic], checkpoint: DispatchCheckpoint(offset: 400, lastRecord: 300)))
        let afterDamage = DispatchBatch(records: [Self.record(5), Self.record(6)], topics: [Self.q.topic], checkpoint: DispatchCheckpoint(offset: 800, lastRecord: 700))
        var strict = afterDamage
        strict.acceptsQueueGaps = false
        #expect(throws: StoreError.self) { try index.apply(strict) }
        try index.apply(DispatchBatch(records: afterDamage.records, topics: afterDamage.topics, checkpoint: afterDamage.checkpoint, acceptsQueueGaps: true))
        #expect(try index.queueRange(Self.q) == QueueRange(min: 0, max: 7))
        #expect(try index.entries(Self.q, from: 0, maxCount: 10).map(\.queueOffset) == [0, 1, 2, 5, 6])
        #expect(try index.entries(Self.q, from: 3, maxCount: 1).map(\.queueOffset) == [5])
        try index.truncate(from: 250, lastRecord: 200)
        #expect(try index.queueRange(Self.q) == QueueRange(min: 0, max: 2))
        #expect(try index.entries(Self.q, from: 0, maxCount: 10).map(\.queueOffset) == [0, 1])
    }
}
