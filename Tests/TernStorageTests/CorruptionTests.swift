import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// Corruption handled as corruption: bytes damaged in the middle of the log lose only the damaged records
/// (reported, never served, never truncated), at open and after `rebuild-index` + restart; a real torn tail
/// (garbage with nothing valid after it) is still truncated.
@Suite("Corruption in the middle of the log vs a torn tail", .serialized)
struct CorruptionTests {
    static let queues: Int32 = 4

    static func config(_ dir: TempDir) -> StoreConfig { smallConfig(dir, segmentSize: 64 * 1024) }

    /// ~10 segments of 1 KiB records over four queues; returns where each landed.
    static func fill(_ dir: TempDir, count: Int = 600) throws -> [AppendResult] {
        let store = try MessageStore.open(config(dir)).start()
        defer { store.close() }
        let results = try (0..<count).map { i in
            try store.append(draft(queueId: Int32(i) % queues, body: "m\(i)-" + String(repeating: "x", count: 1_000)))
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        return results
    }

    static func flip(_ dir: TempDir, at offset: Int64, count: Int = 64) throws {
        let size = Int64(64 * 1024)
        let path = segmentPath(dir, base: offset - offset % size)
        let f = try MappedFile.open(path: path, size: Int(size), create: false)
        let start = Int(offset % size)
        let old = Array(f.bytes(start..<(start + count)))
        try overwrite(path, at: start, with: old.map { $0 ^ 0xFF })
    }

    /// Every record but the victims is served (by offset and by pulling each queue); the victims never are.
    static func expectOnlyVictimsLost(_ store: MessageStore, _ all: [AppendResult], victims: Set<Int64>,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        for r in all {
            let served = store.message(at: r.physicalOffset) != nil
            #expect(served == !victims.contains(r.physicalOffset), "record at \(r.physicalOffset)",
                    sourceLocation: sourceLocation)
        }
        var pulled = Set<Int64>()
        for q in 0..<queues {
            let key = QueueKey(topic: "TopicTest", queueId: q)
            var next: Int64 = 0
            for _ in 0..<1_000 {  // bounded: each round advances or ends
                let got = try store.getMessages(key, from: next, maxCount: 32)
                pulled.formUnion(got.messages.map(\.physicalOffset))
                guard got.nextBeginOffset > next else { break }
                next = got.nextBeginOffset
            }
        }
        let wrong = pulled.symmetricDifference(Set(all.map(\.physicalOffset)).subtracting(victims))
        #expect(wrong.isEmpty, "pulled wrongly / missing: \(wrong.sorted().prefix(5))", sourceLocation: sourceLocation)
    }

    static func rebuild(_ dir: TempDir) throws -> RebuildReport {
        var options = OfflineStore.Options()
        options.indexAccess = .readWrite
        options.lmdbMapSize = 1 << 30
        let s = try OfflineStore.open(root: dir.path, options: options)
        defer { s.close() }
        return try s.rebuildIndex()
    }

    @Test(arguments: ["body", "header"])
    func damageInAMiddleSegmentLosesOnlyTheDamagedRecords(_ where_: String) throws {
        let dir = TempDir("corrupt-\(where_)"); defer { dir.cleanup() }
        let all = try Self.fill(dir)
        let end = all.last!.endOffset
        // A record in the third segment (of about ten): the later segments hold acknowledged records.
        let victim = try #require(all.first { $0.physicalOffset >= 2 * 64 * 1024 + 5_000 })
        try Self.flip(dir, at: where_ == "body" ? victim.physicalOffset + 300 : victim.physicalOffset)
        let lost = victim.physicalOffset..<victim.endOffset

        // Indexed before the damage: reads check the CRC and step over it.
        do {
            let store = try MessageStore.open(Self.config(dir)).start()
            defer { store.close() }
            #expect(store.recovery.validEnd == end && store.recovery.deletedSegments == 0)
            try Self.expectOnlyVictimsLost(store, all, victims: [victim.physicalOffset])
        }
        let report = try Self.rebuild(dir)
        #expect(report.validEnd == end && report.invalidRecord == nil)
        #expect(report.damagedRanges.map { $0.start..<$0.end } == [lost])
        #expect(report.records == all.count - 1)

        // The restart after rebuild-index agrees: nothing truncated, the later segments intact.
        let store = try MessageStore.open(Self.config(dir)).start()
        defer { store.close() }
        #expect(store.recovery.validEnd == end && store.recovery.deletedSegments == 0)
        #expect(store.recovery.tailProblem == nil && store.segments.last!.end >= end)
        try Self.expectOnlyVictimsLost(store, all, victims: [victim.physicalOffset])
        // Writers go on after the real end, with the damaged record's queue offset a gap readers step over.
        let next = try store.append(draft(queueId: 0, body: "after"))
        #expect(next.physicalOffset == end)
    }

    /// Zeros below the write position (a hole no writer leaves: records are published complete) stop the dispatcher
    /// with a corruption error naming the offset, instead of a retry loop that never ends (nor lets close return).
    @Test func aPublishedHoleStopsIndexingWithItsOffset() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir))  // not started: nothing indexed yet
        defer { store.close() }
        let a = try store.append(draft(body: "a"))
        _ = try store.append(draft(body: "b"))
        try overwrite(segmentPath(dir, base: 0), at: Int(a.physicalOffset), with: [UInt8](repeating: 0, count: a.size))
        store.start()
        #expect(await store.dispatched(store.maxPhysicalOffset) == false)
        let failure: StoreError?
        do { _ = try store.append(draft(body: "c")); failure = nil } catch { failure = error }
        guard case let .indexingStopped(cause)? = failure, case let .corruptRecord(at, _) = cause else {
            Issue.record("expected indexingStopped(corruptRecord), got \(String(describing: failure))")
            return
        }
        #expect(at == a.physicalOffset)
    }

    @Test func recoveryStepsOverDamageInTheUnindexedTailAndReportsIt() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let all = try Self.fill(dir)
        let victim = all[300]
        try Self.flip(dir, at: victim.physicalOffset + 300)
        try FileSystem.removeRecursively(dir.path + "/index")  // the whole log is the unindexed tail
        let store = try MessageStore.open(Self.config(dir)).start()
        defer { store.close() }
        #expect(store.recovery.damagedRanges.map { $0.start..<$0.end } == [victim.physicalOffset..<victim.endOffset])
        #expect(store.recovery.damagedRanges.first?.segmentBase == victim.physicalOffset - victim.physicalOffset % 65_536)
        #expect(store.recovery.validEnd == all.last!.endOffset && store.recovery.replayedRecords == all.count - 1)
        try Self.expectOnlyVictimsLost(store, all, victims: [victim.physicalOffset])
    }

    @Test func aRealTornTailIsStillTruncated() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let all = try Self.fill(dir, count: 100)
        let end = all.last!.endOffset
        // A half-written record: a plausible header, then garbage, then never-written zeros.
        var junk: [UInt8] = [0, 0, 4, 0] + Array(RecordLayout.messageMagic.bigEndianBytes)
        var rng = SystemRandomNumberGenerator()
        junk += (0..<200).map { _ in UInt8.random(in: 1...255, using: &rng) }
        try overwrite(segmentPath(dir, base: end - end % 65_536), at: Int(end % 65_536), with: junk)
        let store = try MessageStore.open(Self.config(dir)).start()
        defer { store.close() }
        #expect(store.recovery.validEnd == end && store.recovery.tailProblem != nil)
        #expect(store.recovery.damagedRanges.isEmpty)
        try Self.expectOnlyVictimsLost(store, all, victims: [])
        #expect(try store.append(draft(body: "next")).physicalOffset == end)
    }
}

extension UInt32 {
    fileprivate var bigEndianBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian) { Array($0) } }
}
