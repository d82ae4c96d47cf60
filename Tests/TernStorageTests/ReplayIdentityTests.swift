import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// The index is a pure function of the log plus the derivation config recorded in it: the live dispatcher,
/// recovery (from scratch and after `kill -9`) and `rebuild-index` write byte-identical LMDB tables, also with
/// a non-default delay-level table, and `verify` finds nothing.
@Suite("Replay: one index whoever builds it", .serialized)
struct ReplayIdentityTests {
    static let otherLevels: [Int64] = [2_000, 7_000, 11_000]

    static func config(_ dir: TempDir, levels: [Int64] = otherLevels) -> StoreConfig {
        var c = smallConfig(dir, segmentSize: 64 * 1024)
        c.delayLevelMillis = levels
        return c
    }

    /// Ordinary, schedule-topic (every level), timer, prepared-transaction and half/op records.
    static func appendMix(_ store: MessageStore, count: Int) throws {
        for i in 0..<count {
            let d: MessageDraft
            switch i % 5 {
            case 0: d = draft(topic: DelayedDelivery.scheduleTopic, queueId: Int32(i % 3), body: "delayed-\(i)")
            case 1: d = draft(topic: DelayedDelivery.timerTopic, body: "timer-\(i)",
                              extra: [(DelayedDelivery.timerOutProperty, "\(1_700_000_000_000 + Int64(i))")])
            case 2: d = draft(body: "half-\(i)", keys: ["k\(i)"], sysFlag: SysFlag.transactionPrepared)
            default: d = draft(queueId: Int32(i % 4), body: String(repeating: "b", count: i % 300),
                               tags: "t\(i % 3)", keys: ["k\(i)", "shared"], uniqueKey: String(format: "%032X", i))
            }
            _ = try store.append(d)
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
    }

    static func offline(_ dir: TempDir, _ access: OfflineStore.Options.IndexAccess = .readOnly) throws -> OfflineStore {
        var options = OfflineStore.Options()
        options.indexAccess = access
        options.lmdbMapSize = 1 << 30
        return try OfflineStore.open(root: dir.path, options: options)
    }

    static func dump(_ dir: TempDir) throws -> [IndexTableDump] {
        let s = try offline(dir)
        defer { s.close() }
        return try s.dumpIndex()
    }

    static func rebuildAndDump(_ dir: TempDir) throws -> [IndexTableDump] {
        let s = try offline(dir, .readWrite)
        let report = try s.rebuildIndex(batchSize: 97)  // other batch boundaries than the dispatcher's
        s.close()
        #expect(report.invalidRecord == nil)
        return try dump(dir)
    }

    static func verifyIsClean(_ dir: TempDir) throws {
        let s = try offline(dir)
        defer { s.close() }
        let report = try s.verify()
        #expect(report.isClean, "verify: \(report.problems.prefix(3))")
    }

    /// Equal dumps, reporting the first differing row of each table rather than two huge arrays.
    static func expectIdentical(_ a: [IndexTableDump], _ b: [IndexTableDump], _ what: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.map(\.table) == b.map(\.table), sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) where x != y {
            let i = x.rows.indices.first { $0 >= y.rows.count || x.rows[$0] != y.rows[$0] } ?? x.rows.count
            let left = i < x.rows.count ? x.rows[i] : "-", right = i < y.rows.count ? y.rows[i] : "-"
            Issue.record("\(what): table \(x.table) differs at row \(i) (\(x.rows.count) vs \(y.rows.count) rows): \(left) vs \(right)",
                         sourceLocation: sourceLocation)
        }
    }

    @Test func liveDispatchRecoveryAndRebuildWriteIdenticalTables() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        do {
            let store = try MessageStore.open(Self.config(dir)).start()
            defer { store.close() }
            try Self.appendMix(store, count: 700)
            #expect(store.segments.count > 2)
        }
        let live = try Self.dump(dir)
        #expect(live.first { $0.table == "cq" }.map { $0.rows.count } ?? 0 > 500)
        try Self.verifyIsClean(dir)
        Self.expectIdentical(live, try Self.rebuildAndDump(dir), "live dispatch vs rebuild-index")
        try Self.verifyIsClean(dir)

        try FileSystem.removeRecursively(dir.path + "/index")
        let store = try MessageStore.open(Self.config(dir)).start()
        #expect(store.recovery.replayedRecords == 700)
        store.close()
        Self.expectIdentical(live, try Self.dump(dir), "live dispatch vs recovery from an empty index")
    }

    /// A rebuild batch whose keys need more new pages than the write map has left: the transaction fails with
    /// MDB_MAP_FULL, the map grows and `apply` runs again from the start. The tables match the live dispatcher's
    /// (no queue id, hour or entry taken twice by the aborted run).
    @Test func aBatchLargerThanTheIndexMapRunsAgainAndWritesIdenticalTables() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let longKeys = (0..<12).map { "\($0)-" + String(repeating: "k", count: 200) }
        do {
            // Default delay levels: the fresh index below is rebuilt with the default derivation.
            let store = try MessageStore.open(smallConfig(dir, segmentSize: 1 << 20)).start()
            defer { store.close() }
            for i in 0..<3_000 {
                _ = try store.append(draft(queueId: Int32(i % 6), body: "m\(i)", keys: longKeys.map { "\(i)-\($0)" },
                                           uniqueKey: String(format: "%032X", i)))
            }
            #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        }
        let live = try Self.dump(dir)
        // A fresh index (its map starts at 8 MiB), rebuilt in one transaction: ~9 MB of key rows.
        try FileSystem.removeRecursively(dir.path + "/index")
        let s = try Self.offline(dir, .readWrite)
        let report = try s.rebuildIndex(batchSize: 100_000)
        let env = try #require((s.index as? LMDBIndexStore)?.env)
        #expect(env.mapFullRetries >= 1)
        s.close()
        #expect(report.invalidRecord == nil)
        Self.expectIdentical(live, try Self.dump(dir), "live dispatch vs a rebuild that filled the map")
        try Self.verifyIsClean(dir)
    }

    @Test func anIndexBuiltWithOtherDelayLevelsIsRebuiltAtOpenKeepingOffsets() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let q = QueueKey(topic: "TopicTest", queueId: 1)
        do {
            let store = try MessageStore.open(Self.config(dir, levels: DelayedDelivery.defaultLevelMillis)).start()
            defer { store.close() }
            try Self.appendMix(store, count: 100)
            try store.commitConsumerOffset(group: "g", queue: q, offset: 3)
        }
        let store = try MessageStore.open(Self.config(dir)).start()
        #expect(store.recovery.derivationRebuilt)
        #expect(try store.consumerOffset(group: "g", queue: q) == 3)
        let level2 = try #require(try store.entries(QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: 1),
                                                   from: 0, maxCount: 1).first)
        #expect(level2.tagCode == level2.storeTimestamp + Self.otherLevels[1])
        store.close()
        let reopened = try MessageStore.open(Self.config(dir)).start()
        #expect(!reopened.recovery.derivationRebuilt && reopened.recovery.replayedRecords == 0)
        reopened.close()
        let recovered = try Self.dump(dir)
        try Self.verifyIsClean(dir)
        Self.expectIdentical(recovered, try Self.rebuildAndDump(dir), "rebuilt at open vs rebuild-index")
    }

    @Test func recoveryAfterKill9AndRebuildWriteIdenticalTables() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        var acks = 0
        for (round, wanted) in [300, 500].enumerated() {
            acks += try CrashTests.runAndKill(store: dir.path, mode: "async", seed: 77 + UInt64(round), acks: wanted,
                                              extra: ["mixed"]).count
        }
        var config = CrashTests.childConfig(dir)
        config.delayLevelMillis = Self.otherLevels
        let store = try MessageStore.open(config).start()
        #expect(try store.queues().keys.contains { $0.topic == DelayedDelivery.scheduleTopic })
        store.close()
        let recovered = try Self.dump(dir)
        #expect(recovered.first { $0.table == "cq" }.map { $0.rows.count } ?? 0 >= acks)
        try Self.verifyIsClean(dir)
        Self.expectIdentical(recovered, try Self.rebuildAndDump(dir), "recovery after kill -9 vs rebuild-index")
    }
}
