import Foundation
import Testing
import TernStorage
@testable import TernReplication

/// A deposed master rejoins the replica promoted in its place: its unreplicated tail is erased durably, its
/// log ends byte-identical to the new master's prefix, and it then follows the new master to the end.
@Suite struct RejoinTests {
    /// The log's bytes from its start up to `end`.
    static func bytes(_ store: MessageStore, upTo end: Int64) -> [UInt8] {
        var out: [UInt8] = [], at = store.minPhysicalOffset
        while at < end, let chunk = store.logBytes(from: at, maxCount: Int(min(end - at, 1 << 20))), !chunk.isEmpty {
            out += chunk
            at += Int64(chunk.count)
        }
        return out
    }

    @Test func deposedMasterTruncatesToDivergenceAndFollows() async throws {
        let oldDir = StoreDirectory("old-master"), newDir = StoreDirectory("new-master")
        defer { oldDir.cleanup(); newDir.cleanup() }
        var old = try MessageStore.open(oldDir.config(role: .leader)).start()
        let new = try MessageStore.open(newDir.config(role: .follower)).start()
        defer { new.close() }
        let oldEpochs = try EpochStore(directory: oldDir.path), newEpochs = try EpochStore(directory: newDir.path)
        try oldEpochs.begin(epoch: 1, at: 0)
        try newEpochs.adopt(oldEpochs.entries)

        // Epoch 1: the new master follows the old one for 150 records; 120 more never reach it.
        try appendRecords(old, count: 10)  // within the first segment: the empty follower starts at 0
        let link = try await ReplicationLink.start(master: old, slave: new)
        #expect(await eventually { new.replicationOffset == old.maxPhysicalOffset })
        try appendRecords(old, count: 140, from: 10)
        #expect(await eventually { new.replicationOffset == old.maxPhysicalOffset })
        await link.stop()
        let common = new.maxPhysicalOffset
        try appendRecords(old, count: 120, from: 150)
        #expect(old.waitUntilDispatched(old.maxPhysicalOffset))
        let staleEnd = old.maxPhysicalOffset
        #expect(old.segments.count >= 3 && staleEnd > common)

        // Epoch 2: the follower is elected and writes records of its own.
        try new.promote()
        try newEpochs.begin(epoch: 2, at: new.maxPhysicalOffset)
        try appendRecords(new, count: 90, from: 1_000)

        let outcome = try Rejoin.truncateToDivergence(store: old, epochs: oldEpochs, masterEpochs: newEpochs.entries)
        #expect(outcome == Rejoin.Outcome(divergence: common, endBefore: staleEnd, endAfter: common))
        #expect(old.role == .follower)
        #expect(old.maxPhysicalOffset == common)
        let prefixMatches = Self.bytes(old, upTo: common) == Self.bytes(new, upTo: common)
        #expect(prefixMatches)
        #expect(new.minPhysicalOffset == 0)
        #expect(old.waitUntilDispatched(common))
        #expect(try old.lookup(topic: "TopicA", key: "k150").isEmpty)  // index entries of the tail are cut
        #expect(try !old.lookup(topic: "TopicA", key: "k148").isEmpty)
        #expect(oldEpochs.entries == newEpochs.entries)

        // The erased tail does not come back after a reopen.
        old.close()
        old = try MessageStore.open(oldDir.config(role: .follower)).start()
        defer { old.close() }
        #expect(old.maxPhysicalOffset == common)
        #expect(try old.lookup(topic: "TopicA", key: "k150").isEmpty)
        #expect(try EpochStore(directory: oldDir.path).entries == newEpochs.entries)
        // Rejoining again is a no-op.
        let again = try Rejoin.truncateToDivergence(store: old, epochs: oldEpochs, masterEpochs: newEpochs.entries)
        #expect(again.truncatedBytes == 0)

        // It follows the new master to its end, byte for byte.
        let follow = try await ReplicationLink.start(master: new, slave: old)
        #expect(await eventually { old.replicationOffset == new.maxPhysicalOffset })
        await follow.stop()
        expectSameSegments(master: new, slave: old)
        try expectSameIndexes(master: new, slave: old)
    }
}

extension RejoinTests {
    /// A follower holding part of a record from the old master drops it on rejoin, even when no published byte
    /// diverges: the new master may have different bytes there.
    @Test func heldPartialRecordIsDroppedOnRejoin() throws {
        let masterDir = StoreDirectory("partial-master"), replicaDir = StoreDirectory("partial-replica")
        defer { masterDir.cleanup(); replicaDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        let replica = try MessageStore.open(replicaDir.config(role: .follower)).start()
        defer { master.close(); replica.close() }
        try appendRecords(master, count: 3)
        let all = try #require(master.logBytes(from: 0, maxCount: Int(master.maxPhysicalOffset)))
        let cut = all.count - 50  // inside the third record
        try replica.appendReplicated(all[..<cut], at: 0)
        let published = replica.maxPhysicalOffset
        #expect(replica.replicationOffset == Int64(cut) && published < Int64(cut))
        let epochs = try EpochStore(directory: replicaDir.path)
        try epochs.adopt([EpochEntry(epoch: 1, startOffset: 0)])  // it followed that master in epoch 1
        let outcome = try Rejoin.truncateToDivergence(store: replica, epochs: epochs, masterEpochs: [EpochEntry(epoch: 1, startOffset: 0)])
        #expect(outcome == Rejoin.Outcome(divergence: published, endBefore: Int64(cut), endAfter: published))
        #expect(replica.replicationOffset == published && replica.maxPhysicalOffset == published)
        #expect(epochs.entries == [EpochEntry(epoch: 1, startOffset: 0)])
        // The rest comes from the new master at the published end.
        try replica.appendReplicated(all[Int(published)...], at: published)
        #expect(replica.maxPhysicalOffset == master.maxPhysicalOffset)
    }
}
