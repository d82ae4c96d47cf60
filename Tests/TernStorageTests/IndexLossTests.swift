import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// The index is derived, except consumer offsets: losing or corrupting it rebuilds everything from the log and
/// restores the offsets from `config/consumerOffset.json`.
@Suite struct IndexLossTests {
    let q0 = QueueKey(topic: "TopicTest", queueId: 0), q1 = QueueKey(topic: "TopicTest", queueId: 1)

    func fill(_ c: StoreConfig) throws {
        let store = try MessageStore.open(c).start()
        for i in 0..<100 { _ = try store.append(draft(queueId: Int32(i % 2), body: "m\(i)", keys: ["k\(i)"])) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        try store.commitConsumerOffset(group: "G", queue: q0, offset: 40)
        try store.commitConsumerOffset(group: "G", queue: q1, offset: 30)
        store.close()
    }

    func expectIntact(_ c: StoreConfig) throws {
        let store = try MessageStore.open(c).start()
        defer { store.close() }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        #expect(try store.consumerOffset(group: "G", queue: q0) == 40)
        #expect(try store.consumerOffset(group: "G", queue: q1) == 30)
        #expect(try store.queueRange(q0) == QueueRange(min: 0, max: 50))
        #expect(try store.getMessages(q1, from: 30, maxCount: 100).messages.map(bodyString).first == "m61")
        #expect(try store.lookup(topic: "TopicTest", key: "k99").count == 1)
    }

    @Test func offsetsSurviveDeletingTheIndex() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let c = smallConfig(dir)
        try fill(c)
        try FileSystem.removeRecursively(c.indexPath)
        try expectIntact(c)
    }

    @Test func corruptIndexIsMovedAsideAndRebuilt() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let c = smallConfig(dir)
        try fill(c)
        // Both meta pages (LMDB keeps two, page size 4 KiB) overwritten: mdb_env_open reports MDB_INVALID.
        try overwrite(c.indexPath + "/data.mdb", at: 0, with: [UInt8](repeating: 0xA5, count: 8192))
        try expectIntact(c)
        let aside = try FileSystem.listDirectory(dir.path).filter { $0.hasPrefix("index.corrupt-") }
        #expect(aside.count == 1)
    }

    @Test func runningStoreBacksUpOffsetsWithoutClosing() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir)).start()
        defer { store.close() }
        _ = try store.append(draft(body: "x"))
        try store.commitConsumerOffset(group: "Live", queue: q0, offset: 1)
        let backup = OffsetBackup(root: dir.path)
        let deadline = Clock.monotonicNanos() + 15_000_000_000
        while (try? backup.read())?[ConsumerOffsetKey(group: "Live", queue: q0)] != 1, Clock.monotonicNanos() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try backup.read()[ConsumerOffsetKey(group: "Live", queue: q0)] == 1)
    }
}

extension IndexLossTests {
    @Test func rebuildIndexReplacesACorruptIndexKeepingOffsets() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let c = smallConfig(dir)
        try fill(c)
        try overwrite(c.indexPath + "/data.mdb", at: 0, with: [UInt8](repeating: 0x5A, count: 8192))
        var options = OfflineStore.Options()
        options.indexAccess = .readWrite
        let offline = try OfflineStore.open(root: dir.path, options: options)
        #expect(offline.corruptIndexMovedTo != nil)
        _ = try offline.rebuildIndex()
        offline.close()
        try expectIntact(c)
    }
}
