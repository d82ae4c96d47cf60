import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// GET_PRODUCER_CONNECTION_LIST (204), GET_ALL_PRODUCER_INFO (328), CLONE_GROUP_OFFSET (314), CLEAN_EXPIRED_CONSUMEQUEUE (306).
@Suite struct GroupAdminTests {
    @Test func producerConnectionList() async throws {
        let f = try await BrokerFixture.start()
        #expect(try await f.call(GroupAdminRequestCode.getProducerConnectionList, ["producerGroup": "PG"]).code == ResponseCode.systemError)
        let heartbeat = #"{"clientID":"p-1","producerDataSet":[{"groupName":"PG"}],"consumerDataSet":[]}"#
        let producer = try await f.connect()
        #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: heartbeat), on: producer).code == ResponseCode.success)
        let r = try await f.call(GroupAdminRequestCode.getProducerConnectionList, ["producerGroup": "PG"])
        #expect(r.code == ResponseCode.success)
        let body = try JSONBody.decode(ProducerConnectionBody.self, from: r.body)
        #expect(body.connectionSet.map(\.clientId) == ["p-1"])
        #expect(body.connectionSet.first?.clientAddr.hasPrefix("127.0.0.1:") == true)
        producer.close()
        await f.stop()
    }

    /// GET_ALL_PRODUCER_INFO (328): Java's `ProducerTableInfo` — `data`, group → list of `ProducerInfo` with exactly
    /// its field names (common/protocol/body/ProducerInfo.java), `remoteIP` as Netty's "/ip:port".
    @Test func allProducerInfo() async throws {
        let f = try await BrokerFixture.start()
        let empty = try await f.call(GroupAdminRequestCode.getAllProducerInfo)
        let emptyBody = try #require(empty.body)
        #expect(empty.code == ResponseCode.success && String(buffer: emptyBody) == #"{"data":{}}"#)
        let heartbeat = #"{"clientID":"p-1","producerDataSet":[{"groupName":"PG"}],"consumerDataSet":[]}"#
        let producer = try await f.connect()
        #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: heartbeat), on: producer).code == ResponseCode.success)
        let r = try await f.call(GroupAdminRequestCode.getAllProducerInfo)
        #expect(r.code == ResponseCode.success)
        let body = try #require(r.body)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
        let groups = try #require(json["data"] as? [String: [[String: Any]]])
        let info = try #require(groups["PG"]?.first)
        #expect(Set(info.keys) == ["clientId", "remoteIP", "language", "version", "lastUpdateTimestamp"])
        #expect(info["clientId"] as? String == "p-1" && info["language"] as? String == "CPP")
        #expect((info["remoteIP"] as? String)?.hasPrefix("/127.0.0.1:") == true)
        let stamp = try #require((info["lastUpdateTimestamp"] as? NSNumber)?.int64Value)
        #expect(abs(stamp - Int64(Date().timeIntervalSince1970 * 1_000)) < 60_000)
        producer.close()
        await f.stop()
    }

    @Test func cloneGroupOffsetCopiesCommittedOffsets() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T", queues: 2)
        try f.createTopic("U", queues: 1)
        for (topic, q, o) in [("T", 0, 5), ("T", 1, 7), ("U", 0, 2)] {
            #expect(try await f.call(RequestCode.updateConsumerOffset, ["consumerGroup": "SRC", "topic": topic, "queueId": String(q),
                                                                       "commitOffset": String(o)]).code == ResponseCode.success)
        }
        var r = try await f.call(GroupAdminRequestCode.cloneGroupOffset,
                                 ["srcGroup": "SRC", "destGroup": "DST", "topic": "T", "offline": "true"])
        #expect(r.code == ResponseCode.success)
        let offsets = f.broker.context.offsets
        #expect(offsets.committed(group: "DST", queue: QueueKey(topic: "T", queueId: 0)) == 5)
        #expect(offsets.committed(group: "DST", queue: QueueKey(topic: "T", queueId: 1)) == 7)
        #expect(offsets.committed(group: "DST", queue: QueueKey(topic: "U", queueId: 0)) == nil)
        r = try await f.call(GroupAdminRequestCode.cloneGroupOffset, ["srcGroup": "SRC", "destGroup": "ALL", "offline": "true"])
        #expect(offsets.committed(group: "ALL", queue: QueueKey(topic: "U", queueId: 0)) == 2)
        #expect(try await f.call(GroupAdminRequestCode.cleanExpiredConsumeQueue).code == ResponseCode.success)
        await f.stop()
    }
}
