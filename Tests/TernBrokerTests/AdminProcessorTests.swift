import Foundation
import NIOCore
import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import Testing

@Suite struct AdminProcessorTests {
    /// Sends one message to `topic` queue 0 and returns the response (asserting success).
    @discardableResult
    static func send(_ f: BrokerFixture, _ topic: String, _ body: String, _ props: [(String, String)] = [],
                     queueId: Int32 = 0) async throws -> RemotingCommand {
        let r = try await f.call(RequestCode.sendMessage,
                                 SendFrames.javaFields(topic: topic, queueId: queueId, properties: SendFrames.properties(props)),
                                 body: SendFrames.buffer(body))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        return r
    }

    static func dispatched(_ f: BrokerFixture) {
        #expect(f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset))
    }

    static func query(_ f: BrokerFixture, topic: String, key: String, unique: Bool = false, maxNum: Int = 32,
                      begin: Int64 = 0, end: Int64 = .max) async throws -> RemotingCommand {
        var fields: RemotingExtFields = ["topic": topic, "key": key]
        fields.set("maxNum", maxNum)
        fields.set("beginTimestamp", begin)
        fields.set("endTimestamp", end)
        if unique { fields["_UNIQUE_KEY_QUERY"] = "true" }
        return try await f.call(RequestCode.queryMessage, fields)
    }

    @Test func queryByKey() async throws {
        let f = try await BrokerFixture.start()
        try await Self.send(f, "QK", "one", [("KEYS", "order-1 shared")])
        try await Self.send(f, "QK", "two", [("KEYS", "order-2 shared")])
        try await Self.send(f, "Other", "three", [("KEYS", "shared")])
        Self.dispatched(f)

        let r = try await Self.query(f, topic: "QK", key: "shared")
        #expect(r.code == ResponseCode.success)
        #expect(Set(SendFrames.records(in: r.body).map { String(decoding: $0.body, as: UTF8.self) }) == ["one", "two"])
        #expect(Int64(r.extFields["indexLastUpdatePhyoffset"] ?? "") == f.broker.store.maxPhysicalOffset)
        #expect((Int64(r.extFields["indexLastUpdateTimestamp"] ?? "") ?? 0) > 0)

        let one = try await Self.query(f, topic: "QK", key: "order-1")
        #expect(SendFrames.records(in: one.body).map(\.body) == [Array("one".utf8)])
        let limited = try await Self.query(f, topic: "QK", key: "shared", maxNum: 1)
        #expect(SendFrames.records(in: limited.body).count == 1)

        let none = try await Self.query(f, topic: "QK", key: "absent")
        #expect(none.code == ResponseCode.queryNotFound)
        #expect(none.extFields["indexLastUpdatePhyoffset"] != nil)
        let future = try await Self.query(f, topic: "QK", key: "shared", begin: Int64(Date().timeIntervalSince1970 * 1000) + 60_000)
        #expect(future.code == ResponseCode.queryNotFound)
        await f.stop()
    }

    @Test func queryByUniqueKey() async throws {
        let f = try await BrokerFixture.start()
        try await Self.send(f, "QU", "a", [("UNIQ_KEY", "AC110001000000000000000000000001")])
        try await Self.send(f, "QU", "b", [("UNIQ_KEY", "AC110001000000000000000000000002")])
        Self.dispatched(f)
        let r = try await Self.query(f, topic: "QU", key: "AC110001000000000000000000000002", unique: true)
        #expect(r.code == ResponseCode.success)
        let found = SendFrames.records(in: r.body)
        #expect(found.map(\.body) == [Array("b".utf8)])
        // A unique-key query is scoped to its topic.
        let other = try await Self.query(f, topic: "Elsewhere", key: "AC110001000000000000000000000002", unique: true)
        #expect(other.code == ResponseCode.queryNotFound)
        // Without the flag the id is looked up as a KEYS value, which it is not.
        let asKey = try await Self.query(f, topic: "QU", key: "AC110001000000000000000000000002")
        #expect(asKey.code == ResponseCode.queryNotFound)
        await f.stop()
    }

    @Test func viewMessageByOffsetId() async throws {
        let f = try await BrokerFixture.start()
        try await Self.send(f, "V", "first")
        let sent = try await Self.send(f, "V", "second", [("TAGS", "t")])
        let (host, offset) = try #require(MessageId.decodeOffsetId(sent.extFields["msgId"] ?? ""))
        #expect(host == f.broker.context.storeHost)

        var fields = RemotingExtFields()
        fields.set("offset", offset)
        let r = try await f.call(RequestCode.viewMessageById, fields)
        #expect(r.code == ResponseCode.success)
        let records = SendFrames.records(in: r.body)
        try #require(records.count == 1)
        #expect(records[0].body == Array("second".utf8))
        #expect(records[0].physicalOffset == offset)
        #expect(records[0].property("TAGS") == "t")

        fields.set("offset", offset + 3)
        let bad = try await f.call(RequestCode.viewMessageById, fields)
        #expect(bad.code == ResponseCode.systemError)
        #expect(bad.remark?.contains("\(offset + 3)") == true)
        fields.set("offset", 1 << 40)
        #expect(try await f.call(RequestCode.viewMessageById, fields).code == ResponseCode.systemError)
        await f.stop()
    }

    static func createFields(_ topic: String, read: Int, write: Int, perm: Int) -> RemotingExtFields {
        var f: RemotingExtFields = ["topic": topic, "defaultTopic": "TBW102", "topicFilterType": "SINGLE_TAG"]
        f.set("readQueueNums", read)
        f.set("writeQueueNums", write)
        f.set("perm", perm)
        return f
    }

    static func allTopics(_ f: BrokerFixture) async throws -> [String: TopicConfig] {
        let r = try await f.call(RequestCode.getAllTopicConfig)
        #expect(r.code == ResponseCode.success)
        return try JSONBody.decode(TopicConfigSerializeWrapper.self, from: r.body).topicConfigTable
    }

    @Test func topicCreateAndDeletePersistAcrossRestart() async throws {
        var f = try await BrokerFixture.start { $0.autoCreateTopicEnable = false }
        let dir = f.storeDir
        let created = try await f.call(RequestCode.updateAndCreateTopic, Self.createFields("AdminT", read: 3, write: 5, perm: 6))
        #expect(created.code == ResponseCode.success, "\(created.remark ?? "")")
        #expect(try await Self.allTopics(f)["AdminT"] == TopicConfig(topicName: "AdminT", readQueueNums: 3, writeQueueNums: 5, perm: 6))
        // Sends now succeed although auto-create is off.
        try await Self.send(f, "AdminT", "x", queueId: 4)

        await f.stop(keepStore: true)
        f = try await BrokerFixture.start(storeDir: dir) { $0.autoCreateTopicEnable = false }
        #expect(try await Self.allTopics(f)["AdminT"]?.writeQueueNums == 5)

        var del = RemotingExtFields()
        del["topic"] = "AdminT"
        #expect(try await f.call(215, del).code == ResponseCode.success)
        #expect(try await Self.allTopics(f)["AdminT"] == nil)
        let refused = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "AdminT"), body: SendFrames.buffer("x"))
        #expect(refused.code == ResponseCode.topicNotExist)

        await f.stop(keepStore: true)
        f = try await BrokerFixture.start(storeDir: dir) { $0.autoCreateTopicEnable = false }
        #expect(try await Self.allTopics(f)["AdminT"] == nil)
        // The log keeps the message sent before the delete.
        #expect(try SendFrames.stored(f.broker.store, "AdminT", 4).map(\.body) == [Array("x".utf8)])
        await f.stop()
    }

    @Test func invalidAndSystemTopicsCannotBeCreatedOrDeleted() async throws {
        let f = try await BrokerFixture.start()
        for name in ["bad name", "", "SCHEDULE_TOPIC_XXXX", "TBW102", "RMQ_SYS_TRANS_HALF_TOPIC"] {
            let r = try await f.call(RequestCode.updateAndCreateTopic, Self.createFields(name, read: 1, write: 1, perm: 6))
            #expect(r.code == ResponseCode.systemError, "\(name)")
        }
        var del = RemotingExtFields()
        del["topic"] = "TBW102"
        #expect(try await f.call(215, del).code == ResponseCode.systemError)
        #expect(try await Self.allTopics(f)["TBW102"] != nil)
        let negative = try await f.call(RequestCode.updateAndCreateTopic, Self.createFields("Neg", read: -1, write: 1, perm: 6))
        #expect(negative.code == ResponseCode.systemError)
        await f.stop()
    }

    @Test func topicStats() async throws {
        let f = try await BrokerFixture.start()
        #expect(try await f.call(RequestCode.updateAndCreateTopic, Self.createFields("ST", read: 2, write: 2, perm: 6)).code == 0)
        for i in 0 ..< 3 { try await Self.send(f, "ST", "m\(i)", queueId: 1) }
        Self.dispatched(f)
        let r = try await f.call(202, ["topic": "ST"])
        #expect(r.code == ResponseCode.success)
        let stats = try TopicStatsBody.decode(from: r.body)
        try #require(stats.offsetTable.count == 2)
        #expect(stats.offsetTable[0] == .init(queue: MessageQueue(topic: "ST", brokerName: "broker-a", queueId: 0),
                                             minOffset: 0, maxOffset: 0, lastUpdateTimestamp: 0))
        #expect(stats.offsetTable[1].queue.queueId == 1 && stats.offsetTable[1].maxOffset == 3 && stats.offsetTable[1].minOffset == 0)
        let last = try SendFrames.stored(f.broker.store, "ST", 1).last
        let lastStoreTime = try #require(last.flatMap { f.broker.store.message(at: $0.physicalOffset)?.record.storeTimestamp })
        #expect(stats.offsetTable[1].lastUpdateTimestamp == lastStoreTime)
        #expect(try await f.call(202, ["topic": "Nope"]).code == ResponseCode.topicNotExist)
        await f.stop()
    }

    @Test func brokerRuntimeInfo() async throws {
        let f = try await BrokerFixture.start()
        for i in 0 ..< 4 { try await Self.send(f, "RT", "m\(i)") }
        Self.dispatched(f)
        let r = try await f.call(28)
        #expect(r.code == ResponseCode.success)
        let table = try KVTableBody.decode(from: r.body).table
        #expect(table["msgPutTotalTodayNow"] == "4")
        #expect(table["commitLogMaxOffset"] == String(f.broker.store.maxPhysicalOffset))
        #expect(table["commitLogMinOffset"] == "0")
        #expect(table["dispatchBehindBytes"] == "0")
        #expect(table["brokerVersionDesc"]?.hasPrefix("V4_") == true)
        await f.stop()
    }
}
