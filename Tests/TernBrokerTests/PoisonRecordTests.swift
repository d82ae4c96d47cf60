import Foundation
import NIOCore
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// A send-back whose retry topic can never be written is refused up front, and a parked record that cannot be
/// delivered (written past that check, straight into the store) never blocks the records behind it on its level.
@Suite(.serialized) struct PoisonRecordTests {
    private static let fastLevels: [Int64] = [100, 150, 200, 250]

    private static func bodies(_ f: BrokerFixture, _ topic: String, _ queueId: Int32 = 0) throws -> [String] {
        let store = f.broker.store
        _ = store.waitUntilDispatched(store.maxPhysicalOffset)
        return try store.entries(QueueKey(topic: topic, queueId: queueId), from: 0, maxCount: 100).compactMap { e in
            store.message(at: e.physicalOffset).map { String(decoding: $0.record.body, as: UTF8.self) }
        }
    }

    private static func send(_ f: BrokerFixture, _ topic: String, _ body: String, _ props: [(String, String)] = []) async throws -> Int64 {
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: topic, properties: SendFrames.properties(props)),
                                 body: SendFrames.buffer(body))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        return try #require(r.extFields["msgId"].flatMap(MessageId.decodeOffsetId)).physicalOffset
    }

    private static func sendBack(_ f: BrokerFixture, group: String, offset: Int64) async throws -> RemotingCommand {
        var fields: RemotingExtFields = ["group": group]
        fields.set("offset", offset)
        fields.set("delayLevel", Int32(0))
        return try await f.call(RequestCode.consumerSendMsgBack, fields)
    }

    /// Parks `body` on level 3 (schedule queue 2) for `realTopic` without any broker-side check.
    private static func park(_ f: BrokerFixture, realTopic: String, body: String) throws {
        let props = MessageProperties.encode([("REAL_TOPIC", realTopic), ("REAL_QID", "0"), ("DELAY", "3")])
        _ = try f.broker.store.append(MessageDraft(topic: Array(DelayedDelivery.scheduleTopic.utf8), queueId: 2,
                                                   bornTimestamp: 1_700_000_000_000, bornHost: HostAddress("127.0.0.1:40000")!,
                                                   storeHost: f.broker.context.storeHost, body: Array(body.utf8), properties: props))
    }

    @Test func sendBackWhoseRetryTopicCannotBeWrittenIsRefused() async throws {
        let f = try await BrokerFixture.start { $0.messageDelayLevelMillis = Self.fastLevels }
        let offset = try await Self.send(f, "T", "hello")
        let long = String(repeating: "g", count: 300)
        let tooLong = try await Self.sendBack(f, group: long, offset: offset)
        #expect(tooLong.code == ResponseCode.systemError)
        #expect(tooLong.remark?.contains("longer than group max length 255") == true, "\(tooLong.remark ?? "")")
        // A legal group whose retry topic would pass the 127-byte topic limit.
        let retryTooLong = try await Self.sendBack(f, group: String(repeating: "h", count: 125), offset: offset)
        #expect(retryTooLong.code == ResponseCode.systemError)
        #expect(retryTooLong.remark?.contains("cannot have a retry topic") == true, "\(retryTooLong.remark ?? "")")
        let path = try await Self.sendBack(f, group: "../G", offset: offset)
        #expect(path.code == ResponseCode.systemError && path.remark?.contains("illegal characters") == true)

        #expect(try Self.bodies(f, DelayedDelivery.scheduleTopic, 2).isEmpty, "nothing parked")
        #expect(f.broker.context.topics.all.topicConfigTable.keys.allSatisfy { $0.utf8.count <= TopicConfigManager.topicLengthMax })
        #expect(try await Self.sendBack(f, group: "G", offset: offset).code == ResponseCode.success)
        await f.stop()
    }

    @Test func poisonedRecordsDoNotBlockTheirLevel() async throws {
        let f = try await BrokerFixture.start { $0.messageDelayLevelMillis = Self.fastLevels }
        let deadLetterGroup = String(repeating: "d", count: 121)  // %RETRY% + 121 > 127 bytes, %DLQ% + 121 fits
        try Self.park(f, realTopic: "%RETRY%" + String(repeating: "g", count: 300), body: "dropped")
        try Self.park(f, realTopic: "%RETRY%" + deadLetterGroup, body: "dead-lettered")
        _ = try await Self.send(f, "T", "later", [("DELAY", "3")])

        #expect(await eventually(timeoutMillis: 5_000) { ((try? Self.bodies(f, "T")) ?? []).contains("later") })
        #expect(try Self.bodies(f, "%DLQ%" + deadLetterGroup) == ["dead-lettered"])
        // The level's progress moved past all three.
        _ = try await Self.send(f, "T", "after", [("DELAY", "3")])
        #expect(await eventually(timeoutMillis: 5_000) { ((try? Self.bodies(f, "T")) ?? []).contains("after") })
        await f.stop()
    }

    @Test func poisonedLevelDeliversAfterARestart() async throws {
        let first = try await BrokerFixture.start { $0.messageDelayLevelMillis = Self.fastLevels }
        try Self.park(first, realTopic: "%RETRY%" + String(repeating: "g", count: 300), body: "dropped")
        _ = first.broker.store.waitUntilDispatched(first.broker.store.maxPhysicalOffset)
        await first.stop(keepStore: true)

        let f = try await BrokerFixture.start(storeDir: first.storeDir) { $0.messageDelayLevelMillis = Self.fastLevels }
        _ = try await Self.send(f, "T", "later", [("DELAY", "3")])
        #expect(await eventually(timeoutMillis: 5_000) { ((try? Self.bodies(f, "T")) ?? []).contains("later") })
        await f.stop()
    }
}
