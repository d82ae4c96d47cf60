import TernTestSupport
import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// Corruption and index/log disagreement at open: torn tails, zero-filled tails, an index checkpoint
/// ahead of or behind the log.
@Suite("Recovery from damaged tails and misaligned indexes")
struct RecoveryTests {
    /// Writes `n` messages, closes; returns each message's append result.
    static func fill(_ dir: TempDir, _ backend: Backend, _ n: Int, from start: Int = 0) throws -> [AppendResult] {
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        return try (start..<(start + n)).map { i in
            try store.append(draft(queueId: Int32(i % 2), body: "body-\(i)", keys: ["key\(i)"]))
        }
    }

    /// Bytes of a whole valid record that would follow `end`, written past the indexed end (as if the broker
    /// died after writing it and before dispatching), then damaged by `damage`.
    static func appendRawRecord(_ dir: TempDir, at end: Int64, queueOffset: Int64, damage: (inout [UInt8]) -> Void) throws {
        var bytes = draft(queueId: 0, body: String(repeating: "z", count: 500), keys: ["torn"])
            .encoded(queueOffset: queueOffset, physicalOffset: end, storeTimestamp: Clock.wallMillis())
        damage(&bytes)
        try overwrite(segmentPath(dir, base: 0), at: Int(end), with: bytes)
    }

    @Test(arguments: Backend.allCases)
    func tornTailIsTruncatedNeverServed(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let written = try Self.fill(dir, backend, 50)
        let end = written.last!.endOffset
        // The header promises 600+ bytes but only the first 100 made it (the rest is zeros).
        try Self.appendRawRecord(dir, at: end, queueOffset: 25) { b in
            for i in 100..<b.count { b[i] = 0 }
        }
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        #expect(store.recovery.validEnd == end)
        #expect(store.recovery.tailProblem != nil)
        #expect(store.maxPhysicalOffset == end)
        #expect(store.message(at: end) == nil)
        #expect(try store.lookup(topic: "TopicTest", key: "torn").isEmpty)
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 0)) == QueueRange(min: 0, max: 25))
        // The next append takes the torn record's place and offset.
        let next = try store.append(draft(queueId: 0, body: "after"))
        #expect(next.physicalOffset == end && next.queueOffset == 25)
        // Bytes past the valid end were discarded: nothing of the torn record remains behind the new one.
        let seg = try #require(store.segments.last)
        let tail = seg.file.bytes(Int(next.endOffset)..<Int(end + 700))
        #expect(tail.allSatisfy { $0 == 0 })
    }

    @Test(arguments: Backend.allCases)
    func unindexedValidTailIsReplayed(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let written = try Self.fill(dir, backend, 50)
        let end = written.last!.endOffset
        try Self.appendRawRecord(dir, at: end, queueOffset: 25) { _ in }  // whole and valid, never dispatched
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        #expect(store.recovery.tailProblem == nil)
        #expect(store.recovery.validEnd > end)
        #expect(try store.lookup(topic: "TopicTest", key: "torn").map(\.physicalOffset) == [end])
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 0))?.max == 26)
        if backend == .lmdb { #expect(store.recovery.replayedRecords == 1) }
    }

    @Test(arguments: Backend.allCases)
    func zeroFilledTailEndsTheLogCleanly(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let written = try Self.fill(dir, backend, 20)
        let end = written.last!.endOffset
        try Self.appendRawRecord(dir, at: end, queueOffset: 10) { b in for i in 4..<b.count { b[i] = 0 } }  // size only
        let store = try MessageStore.open(smallConfig(dir, backend)).start()
        defer { store.close() }
        #expect(store.recovery.validEnd == end)
        #expect(store.message(at: end) == nil)
        #expect(try store.append(draft(queueId: 0, body: "x")).queueOffset == 10)
    }

    @Test func corruptBodyInTheUnindexedTailIsCutByCRC() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let end = try Self.fill(dir, .lmdb, 10).last!.endOffset
        try Self.appendRawRecord(dir, at: end, queueOffset: 5) { b in b[b.count - 40] ^= 0xFF }  // inside the body
        let store = try MessageStore.open(smallConfig(dir, .lmdb)).start()
        defer { store.close() }
        #expect(store.recovery.validEnd == end)
        #expect(store.recovery.tailProblem?.contains("CRC") ?? false)
    }

    @Test func indexAheadOfTheLogIsCutBack() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let written = try Self.fill(dir, .lmdb, 100)
        // The log loses its last 10 records (e.g. a power loss before they were flushed) but the index kept them.
        let cut = written[90].physicalOffset
        try MappedFile.open(path: segmentPath(dir, base: 0), size: 1 << 20, create: false).discardTail(from: Int(cut))
        let store = try MessageStore.open(smallConfig(dir, .lmdb)).start()
        defer { store.close() }
        #expect(store.recovery.indexWasAhead)
        #expect(store.recovery.validEnd == cut)
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 0)) == QueueRange(min: 0, max: 45))
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 1)) == QueueRange(min: 0, max: 45))
        #expect(try store.lookup(topic: "TopicTest", key: "key95").isEmpty)
        #expect(try store.lookup(topic: "TopicTest", key: "key89").count == 1)
        let next = try store.append(draft(queueId: 0, body: "again"))
        #expect(next.physicalOffset == cut && next.queueOffset == 45)
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let got = try store.getMessages(QueueKey(topic: "TopicTest", queueId: 0), from: 44, maxCount: 5)
        #expect(got.messages.map(bodyString) == ["body-88", "again"])
    }

    @Test func indexBehindTheLogIsReplayed() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        _ = try Self.fill(dir, .lmdb, 50)
        // Keep a copy of the index as it was after 50 messages, write 50 more, then put the old index back.
        let saved = dir.path + "/index-saved"
        try FileSystem.createDirectory(saved)
        for f in ["data.mdb", "lock.mdb"] {
            try FileSystem.writeAtomically(saved + "/" + f, try FileSystem.readFile(dir.path + "/index/" + f))
        }
        _ = try Self.fill(dir, .lmdb, 50, from: 50)
        for f in ["data.mdb", "lock.mdb"] {
            try FileSystem.writeAtomically(dir.path + "/index/" + f, try FileSystem.readFile(saved + "/" + f))
        }
        let store = try MessageStore.open(smallConfig(dir, .lmdb)).start()
        defer { store.close() }
        #expect(store.recovery.replayedRecords == 50)
        #expect(!store.recovery.indexWasAhead)
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 1)) == QueueRange(min: 0, max: 50))
        #expect(try store.lookup(topic: "TopicTest", key: "key99").map(bodyString) == ["body-99"])
    }

    @Test func badSegmentFilesGiveClearErrors() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        _ = try Self.fill(dir, .lmdb, 5)
        try FileSystem.writeAtomically(dir.path + "/commitlog/junk", [1, 2, 3])
        #expect(throws: StoreError.badSegment(path: dir.path + "/commitlog/junk", reason: "name is not a 20-digit offset")) {
            _ = try MessageStore.open(smallConfig(dir, .lmdb)).start()
        }
        try FileSystem.remove(dir.path + "/commitlog/junk")
        // A segment with the wrong size is refused, not silently mapped.
        #expect(throws: StoreError.self) { _ = try MessageStore.open(smallConfig(dir, .lmdb, segmentSize: 2 << 20)) }
        // And the store still opens with the right configuration, data intact.
        let store = try MessageStore.open(smallConfig(dir, .lmdb)).start()
        defer { store.close() }
        #expect(try store.lookup(topic: "TopicTest", key: "key4").count == 1)
    }

    /// Kafka's testRecoveryWithCorruptMessage: ten seeds, junk over a random suffix of an unindexed tail of
    /// valid records. Every record that ends before the junk is kept; nothing from the record the junk starts
    /// in onward is kept, except that record itself when the junk only hit its topic / properties (RocketMQ's
    /// BODYCRC covers the body only, as in Java).
    @Test(arguments: 1...10)
    func randomJunkSuffixKeepsEveryRecordBeforeIt(_ seed: Int) throws {
        let dir = TempDir("junk\(seed)"); defer { dir.cleanup() }
        let end = try Self.fill(dir, .lmdb, 10).last!.endOffset
        var rng = SplitMix64(seed: UInt64(seed))
        var tail: [UInt8] = []
        var records: [Range<Int64>] = []
        for i in 0..<20 {
            let at = end + Int64(tail.count)
            tail += draft(queueId: 0, body: String(repeating: "t", count: 50 + 37 * i), keys: ["tail\(i)"])
                .encoded(queueOffset: 5 + Int64(i), physicalOffset: at, storeTimestamp: Clock.wallMillis())
            records.append(at..<(end + Int64(tail.count)))
        }
        let junkFrom = Int(rng.next() % UInt64(tail.count))
        for i in junkFrom..<tail.count { tail[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try overwrite(segmentPath(dir, base: 0), at: Int(end), with: tail)
        let store = try MessageStore.open(smallConfig(dir, .lmdb)).start()
        defer { store.close() }
        let junkAt = end + Int64(junkFrom)
        let hit = try #require(records.firstIndex { $0.contains(junkAt) })
        #expect(store.recovery.validEnd == records[hit].lowerBound || store.recovery.validEnd == records[hit].upperBound,
                "junk at \(junkAt) in record \(records[hit])")
        let kept = records.prefix { $0.upperBound <= store.recovery.validEnd }.count
        #expect(kept >= hit)
        #expect(try store.queueRange(QueueKey(topic: "TopicTest", queueId: 0))?.max == 5 + Int64(kept))
        for i in 0..<hit {
            #expect(try store.lookup(topic: "TopicTest", key: "tail\(i)").map(\.physicalOffset) == [records[i].lowerBound])
        }
        #expect(store.message(at: records[hit].upperBound) == nil || kept > hit)
    }
}

