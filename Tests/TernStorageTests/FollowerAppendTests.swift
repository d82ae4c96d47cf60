import Foundation
import Testing
import TernMessage
import TernSystem
import TernTestSupport
@testable import TernStorage

/// The follower path: a leader's log streamed in chunks that cut records anywhere must yield the same log,
/// the same indexes and the same messages; bad input must be refused with nothing after it published.
@Suite struct FollowerAppendTests {
    static let segmentSize = 64 * 1024
    static let topics = ["TopicA", "TopicB", "%RETRY%GroupC"]

    /// A leader store holding several 64 KiB segments of records of varied sizes over 3 topics × 3 queues, with
    /// some transaction half messages.
    static func makeLeader(_ dir: TempDir, seed: UInt64, count: Int = 400) throws -> (MessageStore, [AppendResult]) {
        let store = try MessageStore.open(smallConfig(dir, segmentSize: segmentSize)).start()
        var random = SplitMix64(seed: seed)
        var results: [AppendResult] = []
        for i in 0..<count {
            let topic = topics[Int.random(in: 0..<topics.count, using: &random)]
            let body = String(repeating: "m\(i)-", count: Int.random(in: 1...700, using: &random))
            let d = draft(topic: topic, queueId: Int32.random(in: 0..<3, using: &random), body: body, tags: "tag\(i % 4)",
                          keys: ["k\(i)", "shared"], uniqueKey: "U\(i)",
                          sysFlag: i % 17 == 5 ? SysFlag.transactionPrepared : 0)  // half messages take no queue offset
            results.append(try store.append(d))
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        return (store, results)
    }

    /// A leader filled by `makeLeader`, its log bytes, and an empty follower; directories removed by `cleanup`.
    struct Pair {
        let leaderDir = TempDir(), followerDir = TempDir()
        let leader: MessageStore, results: [AppendResult], bytes: [UInt8]
        var follower: MessageStore
        init(seed: UInt64, count: Int) throws {
            (leader, results) = try FollowerAppendTests.makeLeader(leaderDir, seed: seed, count: count)
            bytes = FollowerAppendTests.logBytes(leader)
            follower = try MessageStore.open(FollowerAppendTests.followerConfig(followerDir)).start()
        }
        /// Closes both stores (their threads stop) and removes their directories.
        func cleanup() {
            leader.close()
            follower.close()
            leaderDir.cleanup()
            followerDir.cleanup()
        }
        var parts: (MessageStore, MessageStore, [UInt8], [AppendResult]) { (leader, follower, bytes, results) }
    }

    static func followerConfig(_ dir: TempDir) -> StoreConfig {
        var c = smallConfig(dir, segmentSize: segmentSize)
        c.role = .follower
        return c
    }

    /// The leader's log bytes from its first segment to its end, blank fillers and their zeros included.
    static func logBytes(_ store: MessageStore, upTo end: Int64? = nil) -> [UInt8] {
        let end = end ?? store.maxPhysicalOffset
        var bytes: [UInt8] = []
        for seg in store.segments where seg.base < end {
            bytes += seg.file.bytes(0..<Int(min(seg.end, end) - seg.base))
        }
        return bytes
    }

    /// Feeds `bytes` (starting at log offset `from`) in chunks of 1 B … 32 KiB; returns the last position.
    @discardableResult
    static func feed(_ follower: MessageStore, _ bytes: ArraySlice<UInt8>, from: Int64, random: inout SplitMix64) throws
        -> ReplicationPosition
    {
        var at = bytes.startIndex
        var position = ReplicationPosition(published: follower.maxPhysicalOffset, received: follower.replicationOffset)
        while at < bytes.endIndex {
            let size = random.chance(30) ? Int.random(in: 1...64, using: &random) : Int.random(in: 1...32_768, using: &random)
            let upTo = min(bytes.endIndex, at + size)
            position = try follower.appendReplicated(bytes[at..<upTo], at: from + Int64(at - bytes.startIndex))
            #expect(position.published <= position.received)
            at = upTo
        }
        return position
    }

    /// Every queue's entries, key lookups and served bodies, in a comparable form.
    static func indexContents(_ store: MessageStore) throws -> [String] {
        var lines: [String] = []
        for (q, range) in try store.queues().sorted(by: { $0.key < $1.key }) {
            lines.append("\(q) \(range.min)..<\(range.max)")
            for e in try store.entries(q, from: range.min, maxCount: Int(range.max - range.min)) {
                lines.append("  \(e.queueOffset) @\(e.physicalOffset) \(e.size) \(e.tagCode) \(e.storeTimestamp)")
            }
            let served = try store.getMessages(q, from: range.min, maxCount: 10_000, maxBytes: .max)
            lines.append("  served \(served.messages.map { "\($0.physicalOffset):\(bodyString($0).prefix(16))" })")
        }
        for topic in topics {
            lines.append("keys \(topic) \(try store.lookup(topic: topic, key: "shared", limit: 10_000).map(\.physicalOffset).sorted())")
        }
        lines.append("uniq \(try store.lookup(uniqueKey: "U7").map(\.physicalOffset))")
        lines.append("checkpoint \(try store.indexCheckpoint())")
        var statistics = try store.indexStatistics()
        statistics.bytesUsed = 0  // LMDB page use depends on batch boundaries, not on contents
        lines.append("statistics \(statistics)")
        return lines
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func followerFedInRandomChunksMatchesTheLeader(seed: UInt64) throws {
        let pair = try Pair(seed: seed, count: 400)
        defer { pair.cleanup() }
        let (leader, follower, bytes, _) = pair.parts
        #expect(leader.segments.count >= 5, "the test needs several segments (blank fillers)")
        var random = SplitMix64(seed: seed &* 7919)
        let end = try Self.feed(follower, bytes[...], from: 0, random: &random)
        #expect(end == ReplicationPosition(published: leader.maxPhysicalOffset, received: leader.maxPhysicalOffset))
        #expect(follower.waitUntilDispatched(follower.maxPhysicalOffset))

        #expect(follower.segments.map(\.base) == leader.segments.map(\.base))
        for (a, b) in zip(leader.segments, follower.segments) {
            #expect(a.file.bytes(0..<a.size).elementsEqual(b.file.bytes(0..<b.size)), "segment \(a.base) differs")
        }
        #expect(try Self.indexContents(follower) == Self.indexContents(leader))
    }

    @Test func chunkNotAtTheFollowersEndIsRefused() throws {
        let pair = try Pair(seed: 11, count: 20)
        defer { pair.cleanup() }
        let (leader, follower, bytes, results) = pair.parts
        #expect(throws: StoreError.replicationOffsetMismatch(expected: 0, received: 100)) {
            try follower.appendReplicated(bytes[100..<200], at: 100)
        }
        // A chunk ending inside the second record: the partial record is held, so the next chunk must start
        // after it (where the slave reports), not at the published end.
        let cut = Int(results[1].physicalOffset) + 10
        let position = try follower.appendReplicated(bytes[0..<cut], at: 0)
        #expect(position == ReplicationPosition(published: results[1].physicalOffset, received: Int64(cut)))
        #expect(follower.message(at: results[1].physicalOffset) == nil)
        #expect(throws: StoreError.replicationOffsetMismatch(expected: Int64(cut), received: results[1].physicalOffset)) {
            try follower.appendReplicated(bytes[Int(results[1].physicalOffset)...], at: results[1].physicalOffset)
        }
        try follower.appendReplicated(bytes[cut...], at: Int64(cut))
        #expect(follower.maxPhysicalOffset == leader.maxPhysicalOffset)
    }

    @Test func corruptedChunkIsRefusedWithNothingAfterItPublished() throws {
        let pair = try Pair(seed: 12, count: 40)
        defer { pair.cleanup() }
        let (leader, follower, bytes, results) = pair.parts
        var corrupt = bytes
        let bad = results[5]
        corrupt[Int(bad.physicalOffset) + RecordLayout.bodyLengthOffset + 5] ^= 0x01  // a body byte: CRC mismatch
        let chunkEnd = Int(results[8].endOffset)
        #expect(throws: StoreError.self) { try follower.appendReplicated(corrupt[0..<chunkEnd], at: 0) }
        #expect(follower.maxPhysicalOffset == bad.physicalOffset)
        #expect(follower.replicationOffset == bad.physicalOffset)
        #expect(follower.message(at: results[4].physicalOffset) != nil)
        #expect(follower.message(at: bad.physicalOffset) == nil)
        #expect(follower.message(at: results[6].physicalOffset) == nil)
        #expect(follower.waitUntilDispatched(bad.physicalOffset))
        #expect(try follower.indexCheckpoint().offset == bad.physicalOffset)
        // The leader resends from the follower's end and the follower catches up.
        var random = SplitMix64(seed: 5)
        try Self.feed(follower, bytes[Int(bad.physicalOffset)...], from: bad.physicalOffset, random: &random)
        #expect(follower.waitUntilDispatched(leader.maxPhysicalOffset))
        #expect(try Self.indexContents(follower) == Self.indexContents(leader))
    }

    @Test func recordAtAnotherPhysicalOffsetIsRefused() throws {
        let pair = try Pair(seed: 13, count: 5)
        defer { pair.cleanup() }
        let (_, follower, bytes, results) = pair.parts
        // Record 1 offered at record 0's place: valid CRC, but it says it lives elsewhere.
        let second = bytes[Int(results[1].physicalOffset)..<Int(results[1].endOffset)]
        #expect(throws: StoreError.replicatedRecordInvalid(offset: 0, reason: "record says it is at \(results[1].physicalOffset)")) {
            try follower.appendReplicated(second, at: 0)
        }
        #expect(follower.maxPhysicalOffset == 0 && follower.replicationOffset == 0)
    }

    @Test func promotedFollowerContinuesEveryQueuesOffsets() throws {
        let pair = try Pair(seed: 14, count: 200)
        defer { pair.cleanup() }
        let (leader, follower, bytes, results) = pair.parts
        var random = SplitMix64(seed: 14)
        let last = results[results.count - 1]
        let cut = Int(last.physicalOffset) + 40  // the last record arrives only in part
        try Self.feed(follower, bytes[0..<cut], from: 0, random: &random)
        #expect(follower.maxPhysicalOffset == last.physicalOffset)
        // What the leader would assign next in each queue, without its last (unreplicated) record.
        #expect(leader.waitUntilDispatched(leader.maxPhysicalOffset))
        var expected = try leader.queues().mapValues(\.max)
        let lastRecord = try #require(leader.message(at: last.physicalOffset)).record
        expected[QueueKey(topic: lastRecord.topicString, queueId: lastRecord.queueId)]! -= 1

        try follower.promote()
        #expect(follower.role == .leader)
        for (q, next) in expected {
            let r = try follower.append(draft(topic: q.topic, queueId: q.queueId, body: "after promotion"))
            #expect(r.queueOffset == next, "\(q)")
            #expect(r.storeTimestamp >= lastRecord.storeTimestamp)
        }
        #expect(throws: StoreError.notFollower) { try follower.appendReplicated([0], at: follower.replicationOffset) }
    }

    @Test func followerRefusesLeaderAppendsAndLeaderRefusesReplicatedBytes() throws {
        let pair = try Pair(seed: 16, count: 3)
        defer { pair.cleanup() }
        let leader = pair.leader, follower = pair.follower
        #expect(follower.role == .follower && leader.role == .leader)
        #expect(throws: StoreError.notLeader) { try follower.append(draft(body: "x")) }
        #expect(throws: StoreError.notLeader) { try follower.append(batch: [draft(body: "x")]) }
        #expect(follower.maxPhysicalOffset == 0)
        #expect(leader.replicationOffset == leader.maxPhysicalOffset && leader.maxPhysicalOffset > 0)
        #expect(throws: StoreError.notFollower) { try leader.appendReplicated([0, 0, 0, 0], at: 0) }
    }

    @Test func followerReopenedResumesAtItsEnd() throws {
        var pair = try Pair(seed: 15, count: 120)
        defer { pair.cleanup() }
        let resume = pair.results[60].physicalOffset
        var random = SplitMix64(seed: 15)
        try Self.feed(pair.follower, pair.bytes[0..<(Int(resume) + 7)], from: 0, random: &random)
        pair.follower.close()
        // The held partial record is not part of the log after a restart: the follower resumes at its end.
        pair.follower = try MessageStore.open(Self.followerConfig(pair.followerDir)).start()
        #expect(pair.follower.replicationOffset == resume)
        try Self.feed(pair.follower, pair.bytes[Int(resume)...], from: resume, random: &random)
        #expect(pair.follower.waitUntilDispatched(pair.leader.maxPhysicalOffset))
        #expect(try Self.indexContents(pair.follower) == Self.indexContents(pair.leader))
        // Reopened as a follower and then promoted: the writer state recovery rebuilt continues the queues.
        pair.follower.close()
        pair.follower = try MessageStore.open(Self.followerConfig(pair.followerDir)).start()
        try pair.follower.promote()
        for (q, range) in try pair.leader.queues() {
            #expect(try pair.follower.append(draft(topic: q.topic, queueId: q.queueId, body: "promoted")).queueOffset == range.max)
        }
    }

    @Test func emptyFollowerStartsAtTheLeadersNewestSegment() throws {
        var pair = try Pair(seed: 17, count: 400)
        defer { pair.cleanup() }
        let (leader, follower, bytes, _) = pair.parts
        let newest = try #require(leader.segments.last).base
        #expect(newest > 0)
        #expect(throws: StoreError.replicationOffsetMismatch(expected: 0, received: newest + 1)) {
            try follower.appendReplicated(bytes[Int(newest + 1)...], at: newest + 1)
        }
        var random = SplitMix64(seed: 17)
        try Self.feed(follower, bytes[Int(newest)...], from: newest, random: &random)
        #expect(follower.minPhysicalOffset == newest && follower.maxPhysicalOffset == leader.maxPhysicalOffset)
        #expect(follower.waitUntilDispatched(leader.maxPhysicalOffset))
        let served = try follower.queues()
        #expect(!served.isEmpty)
        for (q, range) in served {
            #expect(try leader.entries(q, from: range.min, maxCount: 10_000) == follower.entries(q, from: range.min, maxCount: 10_000))
            #expect(try leader.queueRange(q)?.max == range.max)
        }
        // The restarted log survives a reopen, and the follower resumes at its end.
        pair.follower.close()
        pair.follower = try MessageStore.open(Self.followerConfig(pair.followerDir)).start()
        #expect(pair.follower.minPhysicalOffset == newest)
        #expect(pair.follower.replicationOffset == leader.maxPhysicalOffset)
        #expect(try pair.follower.queues() == served)
    }

    @Test func replicatedBytesBecomeDurableThroughTheFlusher() async throws {
        let pair = try Pair(seed: 18, count: 30)
        defer { pair.cleanup() }
        var config = Self.followerConfig(TempDir())
        defer { try? FileSystem.removeRecursively(config.root) }
        config.flushMode = .sync(timeoutMillis: 5_000)
        let follower = try MessageStore.open(config).start()
        defer { follower.close() }
        let cut = Int(pair.results[20].physicalOffset) + 11
        let position = try follower.appendReplicated(pair.bytes[0..<cut], at: 0)
        let outcome = await withCheckedContinuation { c in follower.whenDurable(position.published) { c.resume(returning: $0) } }
        #expect(outcome == .durable)
        // Only published bytes are flushed: the held partial record is not part of the durable log yet.
        #expect(follower.flushedOffset == position.published)
    }

    /// A follower process killed (SIGKILL) while it holds a partial record: recovery drops the partial tail,
    /// the follower reports the end of its last whole record, and the leader's stream continues from there.
    @Test func followerKilledHoldingAPartialRecordRecoversAndCatchesUp() async throws {
        var pair = try Pair(seed: 19, count: 150)
        defer { pair.cleanup() }
        pair.follower.close()  // the child process opens it
        let root = pair.followerDir.path, bytes = pair.bytes
        let resume = pair.results[100].physicalOffset, cut = Int(resume) + 50
        await #expect(processExitsWith: .signal(SIGKILL)) { [root = root as String, bytes = bytes as [UInt8], cut = cut as Int] in
            var config = StoreConfig(root: root)
            config.segmentSize = FollowerAppendTests.segmentSize
            config.maxMessageSize = FollowerAppendTests.segmentSize / 8
            config.role = .follower
            config.prefaultSegments = false
            config.lmdbMapSize = 1 << 30
            let follower = try MessageStore.open(config).start()
            try follower.appendReplicated(bytes[0..<cut], at: 0)
            try ProcessSignals.killHard(ProcessSignals.currentProcessId)
        }
        pair.follower = try MessageStore.open(Self.followerConfig(pair.followerDir)).start()
        #expect(pair.follower.recovery.validEnd == resume)
        #expect(pair.follower.replicationOffset == resume)
        var random = SplitMix64(seed: 19)
        try Self.feed(pair.follower, bytes[Int(resume)...], from: resume, random: &random)
        #expect(pair.follower.waitUntilDispatched(pair.leader.maxPhysicalOffset))
        #expect(try Self.indexContents(pair.follower) == Self.indexContents(pair.leader))
    }
}
