import Foundation
import Logging
import NIOConcurrencyHelpers
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// DELETE_SUBSCRIPTIONGROUP with `removeOffset`: every offset of the group goes (all topics, its retry topic
/// included), durably (restart, and an index rebuilt from the log with the offset backup), and a commit made
/// after the removal survives it.
@Suite struct OffsetRemovalTests {
    private static func openStore(_ dir: String) throws -> MessageStore {
        try startSmallStore(dir)
    }

    private static func key(_ group: String, _ topic: String, _ id: Int32 = 0) -> ConsumerOffsetKey {
        ConsumerOffsetKey(group: group, queue: QueueKey(topic: topic, queueId: id))
    }

    /// The "topic@group" keys of `config/consumerOffset.json`.
    private static func backedUpKeys(_ dir: String) throws -> Set<String> {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config/consumerOffset.json"))
        let table = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["offsetTable"] as? [String: Any]
        return Set(table?.keys.map { $0 } ?? [])
    }

    @Test func removalTakesEveryTopicOfTheGroupAndKeepsLaterCommits() throws {
        let dir = NSTemporaryDirectory() + "tern-offsets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.openStore(dir)
        let offsets = OffsetService(store: store, logger: Logger(label: "test"))
        offsets.commit(group: "G", queue: QueueKey(topic: "T", queueId: 0), offset: 5)
        offsets.commit(group: "G", queue: QueueKey(topic: "%RETRY%G", queueId: 0), offset: 2)
        // A group whose name has G as a prefix is another group.
        offsets.commit(group: "GG", queue: QueueKey(topic: "T", queueId: 0), offset: 7)
        #expect(offsets.writePending())
        offsets.commit(group: "G", queue: QueueKey(topic: "T", queueId: 1), offset: 9)  // pending at the removal

        let outcome = NIOLockedValueBox<Bool?>(nil)
        offsets.remove(group: "G") { ok in outcome.withLockedValue { $0 = ok } }
        // Queries see the removal before the writer ran; the store still has the offsets.
        #expect(offsets.committed(group: "G", queue: QueueKey(topic: "T", queueId: 0)) == nil)
        #expect(offsets.committed(group: "G", queue: QueueKey(topic: "T", queueId: 1)) == nil)
        #expect(offsets.all().keys.allSatisfy { $0.group != "G" })
        #expect(try store.consumerOffset(group: "G", queue: QueueKey(topic: "T", queueId: 0)) == 5)
        // Committed after the removal was asked for: survives it, even with the value the store had before.
        offsets.commit(group: "G", queue: QueueKey(topic: "T", queueId: 0), offset: 5)
        #expect(offsets.committed(group: "G", queue: QueueKey(topic: "T", queueId: 0)) == 5)
        #expect(outcome.withLockedValue { $0 } == nil)

        #expect(offsets.writePending())
        #expect(outcome.withLockedValue { $0 } == true)
        let stored = try store.consumerOffsets()
        #expect(stored == [Self.key("G", "T"): 5, Self.key("GG", "T"): 7])
        store.close()
    }

    /// The backup is rewritten with the removal, so an index rebuilt from the log (missing or corrupt index)
    /// does not restore the removed offsets, and restores the others.
    @Test func aRebuiltIndexDoesNotBringRemovedOffsetsBack() throws {
        let dir = NSTemporaryDirectory() + "tern-offsets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.openStore(dir)
        try store.commitConsumerOffsets([Self.key("G", "T"): 5, Self.key("G", "%RETRY%G"): 1, Self.key("H", "T"): 3])
        store.close()  // a graceful close writes the backup with all three
        let reopened = try Self.openStore(dir)
        #expect(try Self.backedUpKeys(dir).contains("T@G"))
        #expect(try reopened.removeConsumerOffsets(groups: ["G"]) == 2)
        // The backup is rewritten with the removal, not at the next housekeeping pass or close (a crash
        // before those would leave the removed offsets in it).
        #expect(try Self.backedUpKeys(dir) == ["T@H"])
        #expect(try reopened.removeConsumerOffsets(groups: ["G"]) == 0)
        reopened.close()

        try FileManager.default.removeItem(atPath: dir + "/index")
        let rebuilt = try Self.openStore(dir)
        #expect(try rebuilt.consumerOffsets() == [Self.key("H", "T"): 3])
        rebuilt.close()
    }

    /// Raw frames as mqadmin sends them: `removeOffset=false` keeps the offsets, `true` removes them from the
    /// broker's queries and the store, and they stay gone after a restart.
    @Test func deleteSubscriptionGroupRemovesOffsetsAcrossRestart() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T", queues: 2)
        try f.createTopic("%RETRY%G", queues: 1)
        for (topic, offset) in [("T", "4"), ("%RETRY%G", "1")] {
            let r = try await f.call(RequestCode.updateConsumerOffset,
                                     ["consumerGroup": "G", "topic": topic, "queueId": "0", "commitOffset": offset])
            #expect(r.code == ResponseCode.success)
        }
        #expect(await eventually { (try? f.broker.store.consumerOffsets().count) == 2 })

        #expect(try await f.call(SubscriptionGroupRequestCode.delete, ["groupName": "G", "removeOffset": "false"]).code
            == ResponseCode.success)
        #expect(f.broker.context.offsets.committed(group: "G", queue: QueueKey(topic: "T", queueId: 0)) == 4)

        #expect(try await f.call(SubscriptionGroupRequestCode.delete, ["groupName": "G", "removeOffset": "true"]).code
            == ResponseCode.success)
        // Answered once the removal is written.
        #expect(try f.broker.store.consumerOffsets().isEmpty)
        #expect(f.broker.context.offsets.committed(group: "G", queue: QueueKey(topic: "%RETRY%G", queueId: 0)) == nil)
        await f.stop(keepStore: true)

        let again = try await BrokerFixture.start(storeDir: f.storeDir)
        #expect(try again.broker.store.consumerOffsets().isEmpty)
        await again.stop()
    }
}
