import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// The frames mqadmin's message commands send, shaped as the Java tools send them: queryMsgByOffset and
/// printMsg pull through `DefaultMQPullConsumer` as TOOLS_CONSUMER; the message track asks
/// QUERY_TOPIC_CONSUME_BY_WHO (300).
@Suite struct AdminMessageQueryTests {
    /// `DefaultMQPullConsumer.pull(mq, subExpression, offset, maxNums)`: sysFlag 4 (subscription only: no
    /// commit, no suspend), the consumer's default broker suspend time, TAG expression.
    static func toolsPull(_ topic: String, queueId: Int32, offset: Int64, maxNums: Int, subscription: String = "*") -> RemotingExtFields {
        var f: RemotingExtFields = ["consumerGroup": "TOOLS_CONSUMER", "topic": topic, "subscription": subscription,
                                    "subVersion": "0", "expressionType": "TAG"]
        f.set("queueId", queueId)
        f.set("queueOffset", offset)
        f.set("maxMsgNums", maxNums)
        f.set("sysFlag", 4)
        f.set("commitOffset", 0)
        f.set("suspendTimeoutMillis", 20_000)
        return f
    }

    /// queryMsgByOffset: one message, the one at the offset, even with group auto-creation off; an offset past
    /// the end answers PULL_NOT_FOUND / PULL_OFFSET_MOVED (the tool prints nothing), never an error.
    @Test func queryMsgByOffsetPullIsAnswered() async throws {
        let f = try await BrokerFixture.start { $0.autoCreateSubscriptionGroup = false }
        try f.createTopic("T", queues: 2)
        for i in 0..<5 { try f.put("T", queueId: 1, tag: "t\(i)", body: "m\(i)") }
        let r = try await f.call(RequestCode.pullMessage, Self.toolsPull("T", queueId: 1, offset: 3, maxNums: 1))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        let records = decodeRecords(r.body)
        #expect(records.count == 1 && records.first?.offset == 3 && records.first?.body == "m3")
        #expect(r.extFields.int64("nextBeginOffset") == 4)
        let past = try await f.call(RequestCode.pullMessage, Self.toolsPull("T", queueId: 1, offset: 5, maxNums: 1))
        #expect([ResponseCode.pullNotFound, ResponseCode.pullOffsetMoved].contains(past.code))
        // Nothing committed for the tools group.
        #expect(f.broker.context.offsets.committed(group: "TOOLS_CONSUMER", queue: .init(topic: "T", queueId: 1)) == nil)
        await f.stop()
    }

    /// printMsg: min / max offset, offset by time, then pulls of 32 with a tag expression until the max.
    @Test func printMsgRangeCodesAreAnswered() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T", queues: 1)
        for i in 0..<40 { try f.put("T", tag: i % 2 == 0 ? "even" : "odd", body: "m\(i)") }
        var q: RemotingExtFields = ["topic": "T"]
        q.set("queueId", 0)
        #expect(try await f.call(RequestCode.getMinOffset, q).extFields.int64("offset") == 0)
        #expect(try await f.call(RequestCode.getMaxOffset, q).extFields.int64("offset") == 40)
        var byTime = q
        byTime.set("timestamp", 0)
        #expect(try await f.call(RequestCode.searchOffsetByTimestamp, byTime).extFields.int64("offset") == 0)

        var offset: Int64 = 0
        var bodies: [String] = []
        while offset < 40 {
            let r = try await f.call(RequestCode.pullMessage, Self.toolsPull("T", queueId: 0, offset: offset, maxNums: 32,
                                                                              subscription: "even"))
            #expect([ResponseCode.success, ResponseCode.pullRetryImmediately].contains(r.code))
            bodies += decodeRecords(r.body).map(\.body)
            let next = try #require(r.extFields.int64("nextBeginOffset"))
            #expect(next > offset)
            offset = next
        }
        #expect(bodies == (0..<20).map { "m\($0 * 2)" })
        await f.stop()
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO: groups subscribed now (heartbeat) and groups with offsets on the topic.
    @Test func topicConsumeByWhoNamesOnlineAndCommittedGroups() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T", queues: 1)
        try f.createTopic("U", queues: 1)
        // Closed before the fixture stops: closing after would schedule on an event loop group already shut down.
        let c = try await f.connect()
        #expect(try await f.heartbeat(clientId: "c1", group: "ONLINE", topics: ["T": "*"], on: c).code == ResponseCode.success)
        f.broker.context.offsets.commit(group: "COMMITTED", queue: .init(topic: "T", queueId: 0), offset: 1)
        f.broker.context.offsets.commit(group: "OTHER", queue: .init(topic: "U", queueId: 0), offset: 1)
        let r = try await f.call(GroupAdminRequestCode.queryTopicConsumeByWho, ["topic": "T"])
        #expect(r.code == ResponseCode.success)
        #expect(try JSONBody.decode(GroupListBody.self, from: r.body).groupList == ["COMMITTED", "ONLINE"])
        c.close()
        await f.stop()
    }
}
