import Testing
import TernSystem
@testable import TernStorage

/// The consume queues' LMDB layout: each queue's entries are the duplicates of its id, appended at the end of
/// the queue's own sub-tree, so pages fill up; an index of the older layout is rebuilt from the log at open.
@Suite struct QueueEntriesLayoutTests {
    static let entriesPerQueue = 4_000, queueCount = 8

    @Test func entriesOfInterleavedQueuesFillTheirPages() throws {
        let dir = TempDir("cq-fill"); defer { dir.cleanup() }
        let index = try LMDBIndexStore(path: dir.path + "/index", mapSize: 1 << 28)
        defer { index.close() }
        let queues = (0..<Self.queueCount).map { QueueKey(topic: "T", queueId: Int32($0)) }
        var phys: Int64 = 0
        // Batches of 32 as a dispatcher commits them at a moderate rate: every batch reaches all 8 queues.
        for batch in 0..<(Self.entriesPerQueue * Self.queueCount / 32) {
            let records = (0..<32).map { i -> DispatchRecord in
                defer { phys += 200 }
                let q = queues[i % Self.queueCount]
                let entry = ConsumeQueueEntry(queueOffset: Int64(batch * 4 + i / Self.queueCount), physicalOffset: phys,
                                              size: 200, tagCode: 7, storeTimestamp: 1_700_000_000_000)
                return DispatchRecord(queueId: q.queueId, entry: entry)
            }
            try index.apply(DispatchBatch(records: records, topics: ["T"],
                                          checkpoint: DispatchCheckpoint(offset: phys, lastRecord: phys - 200)))
        }
        let stats = try index.statistics()
        let total = Self.entriesPerQueue * Self.queueCount
        #expect(stats.queueEntries == total)
        // 36 bytes per entry in a full page (113 per 4 KiB); the older layout's half-split pages took ~95.
        #expect(stats.bytesUsed < 48 * total, "index pages per entry: \(Double(stats.bytesUsed) / Double(total)) bytes")
        let read = try index.entries(queues[3], from: 1_000, maxCount: 5)
        #expect(read.map(\.queueOffset) == [1_000, 1_001, 1_002, 1_003, 1_004])
        let expectedPhysical: Int64 = (250 * 32 + 3) * 200  // batch 250, its fourth record
        #expect(read.first?.physicalOffset == expectedPhysical)
        #expect(try index.queueRange(queues[7]) == QueueRange(min: 0, max: Int64(Self.entriesPerQueue)))
    }
}

extension QueueEntriesLayoutTests {
    /// A batch's entries are put queue by queue: queues of two topics in an irregular order, a queue first seen
    /// mid-batch, a batch of one queue, the two topics at swapped positions of the batch's topic table from batch to
    /// batch. Each queue reads back exactly its own entries, in offset order.
    @Test func entriesOfABatchArePutPerQueueInOrder() throws {
        let dir = TempDir("cq-groups"); defer { dir.cleanup() }
        let index = try LMDBIndexStore(path: dir.path + "/index", mapSize: 1 << 28)
        defer { index.close() }
        let queues = (0..<5).map { QueueKey(topic: $0 < 3 ? "A" : "B", queueId: Int32($0 % 3)) }
        var expected = [QueueKey: [Int64]](), next = [QueueKey: Int64](), phys: Int64 = 0
        var rng = SystemRandomNumberGenerator()
        for batch in 0..<4 {
            // Batch 0 never reaches the last queue; batch 3 holds only queue 1.
            let count = batch == 3 ? 50 : 700
            let topics = batch % 2 == 0 ? ["A", "B"] : ["B", "A"]
            let records = (0..<count).map { i -> DispatchRecord in
                defer { phys += 100 }
                let q = batch == 3 ? queues[1] : queues[Int.random(in: 0..<(batch == 0 ? 4 : 5), using: &rng)]
                let offset = next[q, default: 0]
                next[q] = offset + 1
                expected[q, default: []].append(phys)
                let entry = ConsumeQueueEntry(queueOffset: offset, physicalOffset: phys, size: 100, tagCode: Int64(i),
                                              storeTimestamp: 1)
                return DispatchRecord(topic: Int32(topics.firstIndex(of: q.topic)!), queueId: q.queueId, entry: entry)
            }
            try index.apply(DispatchBatch(records: records, topics: topics,
                                          checkpoint: DispatchCheckpoint(offset: phys, lastRecord: phys - 100)))
        }
        for q in queues {
            let read = try index.entries(q, from: 0, maxCount: 10_000)
            #expect(read.map(\.queueOffset) == Array(0..<Int64(expected[q, default: []].count)), "\(q)")
            #expect(read.map(\.physicalOffset) == expected[q, default: []], "\(q)")
        }
    }
}

extension IndexLossTests {
    /// An index whose consume queues are in the older table `cq` (id + offset keys), its checkpoint at the log's
    /// end: without the rebuild, every queue would read empty although its range says otherwise.
    @Test func anIndexOfTheOlderQueueLayoutIsRebuiltKeepingOffsets() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let c = smallConfig(dir)
        try fill(c)
        do {
            let env = try LMDBEnvironment(path: c.indexPath, mapSize: c.lmdbMapSize, maxDatabases: 16, flags: [.noSync, .writeMap])
            defer { env.close() }
            let entries = try env.openDatabase("queueEntries", [])
            let older = try env.openDatabase("cq", [.create])
            try env.write { t in
                try t.drop(entries)
                // A row as the older layout keyed it: queue id(4) offset(8) -> the 28-byte entry.
                _ = try t.put(older, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], [UInt8](repeating: 0, count: 28))
            }
        }
        #expect(throws: LMDBError.self) { try LMDBIndexStore(path: c.indexPath, mapSize: c.lmdbMapSize, readOnly: true) }
        try expectIntact(c)
        let env = try LMDBEnvironment(path: c.indexPath, mapSize: c.lmdbMapSize, maxDatabases: 16, flags: [.noSync, .writeMap])
        defer { env.close() }
        #expect(try env.existingDatabase("cq") == nil)
    }
}
