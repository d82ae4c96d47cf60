import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// Group names are checked with RocketMQ's rules on every request that carries one: refused with SYSTEM_ERROR and
/// the client's wording, and nothing of the request reaches the topic table, the client registry or the offsets.
@Suite struct GroupValidationTests {
    private static let bad = ["a/b", "../etc", "a\\nb", "a b", String(repeating: "g", count: 256)]

    @Test func rulesFollowRocketMQValidators() {
        #expect(GroupName.invalidReason("CG_1-x%|y") == nil)
        #expect(GroupName.invalidReason(String(repeating: "g", count: 255)) == nil)
        #expect(GroupName.invalidReason("") == "the specified group is blank")
        #expect(GroupName.invalidReason(String(repeating: "g", count: 256)) == "the specified group is longer than group max length 255.")
        for name in ["a/b", "a.b", "a\nb", "a\0b", "é"] {
            #expect(GroupName.invalidReason(name)?.contains("contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$") == true)
        }
    }

    @Test func heartbeatsWithABadGroupRegisterNothing() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        for group in Self.bad {
            let r = try await f.heartbeat(clientId: "c1", group: group, on: c)
            #expect(r.code == ResponseCode.systemError, "\(group)")
            #expect(r.remark?.hasPrefix("the specified group") == true, "\(r.remark ?? "")")
        }
        let producer = #"{"clientID":"p1","producerDataSet":[{"groupName":"P/G"}]}"#
        #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: producer), on: c).code == ResponseCode.systemError)
        let topics = f.broker.context.topics.all.topicConfigTable.keys
        #expect(!topics.contains { $0.hasPrefix("%RETRY%") }, "\(topics.sorted())")
        #expect(f.broker.context.clients.consumerGroup("a/b") == nil)
        // A legal group whose retry topic would be too long registers, without an unwritable retry topic.
        let long = String(repeating: "h", count: 200)
        #expect(try await f.heartbeat(clientId: "c1", group: long, on: c).code == ResponseCode.success)
        #expect(f.broker.context.clients.consumerGroup(long) != nil)
        #expect(f.broker.context.topics.config("%RETRY%" + long) == nil)
        c.close()
        await f.stop()
    }

    @Test func pullOffsetLockAndSendRefuseABadGroup() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T")
        for group in Self.bad {
            var r = try await f.call(RequestCode.updateConsumerOffset,
                                     ["consumerGroup": group, "topic": "T", "queueId": "0", "commitOffset": "5"])
            #expect(r.code == ResponseCode.systemError && r.remark?.hasPrefix("the specified group") == true)
            #expect(try f.broker.store.consumerOffset(group: group, queue: QueueKey(topic: "T", queueId: 0)) == nil)

            r = try await f.call(RequestCode.pullMessage, ["consumerGroup": group, "topic": "T", "queueId": "0", "queueOffset": "0",
                                                           "maxMsgNums": "32", "sysFlag": "0", "commitOffset": "0",
                                                           "suspendTimeoutMillis": "0", "subVersion": "0"])
            #expect(r.code == ResponseCode.systemError && r.remark?.hasPrefix("the specified group") == true)

            let lock = JSONBody.encode(LockBatchRequestBody(consumerGroup: group, clientId: "c1",
                                                            mqSet: [MessageQueue(topic: "T", brokerName: "b", queueId: 0)]))
            r = try await f.call(RequestCode.lockBatchMQ, body: lock)
            #expect(r.code == ResponseCode.systemError && r.remark?.hasPrefix("the specified group") == true)

            var send = SendFrames.javaFields(topic: "T")
            send["producerGroup"] = group
            r = try await f.call(RequestCode.sendMessage, send, body: SendFrames.buffer("x"))
            #expect(r.code == ResponseCode.systemError && r.remark?.hasPrefix("the specified group") == true)
        }
        #expect(try f.broker.store.queueRange(QueueKey(topic: "T", queueId: 0))?.max ?? 0 == 0, "nothing stored")
        await f.stop()
    }
}
