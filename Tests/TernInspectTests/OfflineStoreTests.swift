import Foundation
import Testing
import TernMessage
import TernStorage
import TernSystem

@Suite("OfflineStore: stats, queues, dump, find")
struct OfflineStoreQueryTests {
    @Test func statsAndQueuesOfASoundStore() throws {
        let f = try Fixture(); defer { f.remove() }
        let s = try f.open(); defer { s.close() }
        let stats = try s.stats()
        #expect(stats.segmentSize == 1 << 20)
        #expect(stats.segmentCount == Int(f.validEnd / f.segmentSize) + 1)
        #expect(stats.segmentCount >= 2)
        #expect(stats.segmentBytes == Int64(stats.segmentCount) << 20)
        #expect(stats.messageCount == f.appended.count)
        #expect(stats.validEnd == f.validEnd)
        #expect(stats.invalidRecord == nil)
        #expect(stats.firstStoreTimestamp == f.appended.first?.result.storeTimestamp)
        #expect(stats.lastStoreTimestamp == f.appended.last?.result.storeTimestamp)
        let index = try #require(stats.index)
        #expect(index.checkpointOffset == f.validEnd)
        #expect(index.checkpointLastRecord == f.appended.last?.result.physicalOffset)
        #expect(index.unindexedTailBytes == 0)
        #expect(index.queues == 4)
        #expect(index.queueEntries == f.appended.filter(\.consumable).count)
        #expect(index.uniqueKeyEntries == f.appended.count)
        #expect(index.consumerOffsets == 1)

        let queues = try s.queues()
        #expect(queues.map { "\($0.topic)/\($0.queueId)" } == ["Audit/0", "Orders/0", "Orders/1", "Orders/2"])
        for q in queues {
            let expected = f.expectedQueues[QueueKey(topic: q.topic, queueId: q.queueId)]
            #expect(q.minOffset == 0 && q.maxOffset == expected && q.messageCount == expected)
        }
    }

    @Test func dumpFiltersByTopicRangeAndLimit() throws {
        let f = try Fixture(count: 300); defer { f.remove() }
        let s = try f.open(); defer { s.close() }
        var all: [RecordSummary] = []
        let summary = s.dump(DumpFilter()) { if case let .record(r) = $0 { all.append(r) } }
        #expect(all.map(\.physicalOffset) == f.appended.map(\.result.physicalOffset))
        #expect(summary.recordsShown == 300 && summary.invalidRecords.isEmpty)
        let r7 = try #require(all.dropFirst(7).first)
        #expect(r7.topic == "Audit" && r7.queueId == 0 && r7.queueOffset == f.appended[7].result.queueOffset)
        #expect(r7.tags == "odd" && r7.keys == "order-7 customer-0" && r7.uniqueKey == String(format: "%032X", 7))
        #expect(r7.properties.map(\.name) == ["TAGS", "KEYS", "UNIQ_KEY"])
        #expect(r7.bodyLength == 1_007 && r7.bodyCRCValid && r7.transactionType == "NOT")
        #expect(r7.storeTimestamp == f.appended[7].result.storeTimestamp)
        #expect(r7.messageId == MessageId.offsetId(storeHost: HostAddress(ip: (127, 0, 0, 1), port: 10_911),
                                                   physicalOffset: f.appended[7].result.physicalOffset))
        #expect(all[24].transactionType == "PREPARED")

        var filter = DumpFilter()
        filter.topic = "Audit"
        filter.fromOffset = f.appended[10].result.physicalOffset + 1  // not a record boundary
        filter.toOffset = f.appended[200].result.physicalOffset
        filter.bodyBytes = 8
        var audit: [RecordSummary] = []
        s.dump(filter) { if case let .record(r) = $0 { audit.append(r) } }
        let expected = f.appended[11..<200].filter { $0.topic == "Audit" }.map(\.result.physicalOffset)
        #expect(audit.map(\.physicalOffset) == expected)
        #expect(audit.first?.bodyPreview == "body-11-")

        filter.limit = 5
        var limited = 0
        let limitedSummary = s.dump(filter) { _ in limited += 1 }
        #expect(limited == 5 && limitedSummary.recordsShown == 5)
    }

    @Test func dumpShowsABadCRCAndGoesOn() throws {
        let f = try Fixture(count: 300); defer { f.remove() }
        let victim = f.appended[150]
        try f.flipBodyByte(of: victim)
        let s = try f.open(); defer { s.close() }
        var records: [RecordSummary] = []
        s.dump(DumpFilter()) { if case let .record(r) = $0 { records.append(r) } }
        #expect(records.count == 300)
        #expect(records.filter { !$0.bodyCRCValid }.map(\.physicalOffset) == [victim.result.physicalOffset])
    }

    @Test func findsByKeyUniqueKeyAndMessageId() throws {
        let f = try Fixture(count: 300); defer { f.remove() }
        let s = try f.open(); defer { s.close() }
        let byKey = try s.find(topic: "Orders", key: "customer-3", limit: 100)
        let expected = f.appended.filter { $0.topic == "Orders" && $0.keys.contains("customer-3") }
        #expect(byKey.map(\.physicalOffset) == expected.reversed().map(\.result.physicalOffset))  // newest first
        #expect(try s.find(topic: "Audit", key: "order-5").isEmpty)  // record 5 is in Orders
        #expect(try s.find(topic: "Orders", key: "order-5").map(\.physicalOffset) == [f.appended[5].result.physicalOffset])
        #expect(try s.find(uniqueKey: f.appended[99].uniqueKey).map(\.physicalOffset) == [f.appended[99].result.physicalOffset])
        let id = MessageId.offsetId(storeHost: HostAddress(ip: (127, 0, 0, 1), port: 10_911),
                                    physicalOffset: f.appended[42].result.physicalOffset)
        #expect(try s.find(offsetMessageId: id)?.keys == "order-42 customer-0")
        #expect(throws: OfflineStoreError.invalidMessageId("XYZ")) { try s.find(offsetMessageId: "XYZ") }
    }
}

@Suite("OfflineStore: opening")
struct OfflineStoreOpenTests {
    @Test func refusesAStoreWhoseLockIsHeldAndHoldsTheLockItself() throws {
        let f = try Fixture(count: 10); defer { f.remove() }
        let lockPath = f.root + "/lock"
        do {
            // flock conflicts between two open file descriptions, also within one process.
            let held = try FileLock.acquire(path: lockPath)
            defer { held.release() }
            #expect(throws: OfflineStoreError.storeLocked(lockPath: lockPath, holderPid: ProcessInfo.processInfo.processIdentifier)) {
                try f.open()
            }
        }
        let s = try f.open()
        #expect(throws: StoreError.storeLocked(path: lockPath)) { try MessageStore.open(Fixture.config(f.root)) }
        s.close()
        try MessageStore.open(Fixture.config(f.root)).close()
    }

    @Test func refusesMissingDirectoriesAndMismatchedSegments() throws {
        let missing = "/tmp/tern-tests/missing-\(UInt32.random(in: 0...UInt32.max))"
        #expect(throws: OfflineStoreError.storeNotFound(path: missing)) { try OfflineStore.open(root: missing) }
        let f = try Fixture(count: 10); defer { f.remove() }
        let odd = f.root + "/commitlog/" + Segment.fileName(base: 1 << 20)
        // (A shorter trailing file is an interrupted preparation the tool ignores; a longer one is a mismatch.)
        try FileSystem.writeAtomically(odd, [UInt8](repeating: 0, count: 2 << 20))
        #expect(throws: OfflineStoreError.segmentSizeMismatch(path: odd, size: 2 << 20, expected: 1 << 20)) { try f.open() }
        // The lock was released after the failed open.
        #expect(!FileLock.isHeld(path: f.root + "/lock"))
    }

    @Test func aStoreWithoutIndexStillShowsItsLog() throws {
        let f = try Fixture(count: 50); defer { f.remove() }
        try FileSystem.removeRecursively(f.root + "/index")
        let s = try f.open(); defer { s.close() }
        #expect(try s.stats().messageCount == 50)
        #expect(try s.stats().index == nil)
        #expect(throws: OfflineStoreError.noIndex(path: f.root + "/index")) { try s.queues() }
        #expect(try s.verify().isClean)
    }
}
