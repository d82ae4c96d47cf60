import Foundation
import NIOCore
import TernNameServer
import TernProtocol
import TernRemoting
import Testing

/// REGISTER_BROKER as a broker sends it (`crc` nil = compute it; 0 = unchecked).
func registerRequest(broker: String = "broker-a", addr: String = "127.0.0.1:10911", id: Int64 = 0,
                     cluster: String = "DefaultCluster", topics: [TopicConfig], counter: Int64 = 1,
                     crc: Int64? = nil) -> RemotingCommand {
    let table = Dictionary(uniqueKeysWithValues: topics.map { ($0.topicName, $0) })
    let body = JSONBody.encode(RegisterBrokerBody(topicConfigSerializeWrapper: TopicConfigSerializeWrapper(
        topicConfigTable: table, dataVersion: DataVersion(timestamp: 1_700_000_000_000, counter: counter))))
    var ext: RemotingExtFields = ["brokerName": broker, "brokerAddr": addr, "clusterName": cluster,
                                  "haServerAddr": "127.0.0.1:10912", "compressed": "false"]
    ext.set("brokerId", id)
    ext.set("bodyCrc32", crc ?? Int64(zlibCRC32(Array(body.readableBytesView)) & 0x7FFF_FFFF))
    return RemotingCommand(code: RequestCode.registerBroker, extFields: ext, body: body)
}

/// Reference CRC32 (bitwise, zlib polynomial), independent of the server's table.
func zlibCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
    }
    return ~crc
}

@Suite struct NameServerProcessorTests {
    let processor = NameServerProcessor(routes: RouteInfoManager(clock: TestClock().function))

    @Test func crcReferenceValue() {
        // The standard check value of CRC-32.
        #expect(zlibCRC32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func registerThenRouteOverRequests() throws {
        let r = processor.process(registerRequest(topics: [TopicConfig(topicName: "T", readQueueNums: 2, writeQueueNums: 3)]),
                                  connectionId: 1)
        #expect(r.code == ResponseCode.success)
        #expect(r.body == nil)
        #expect(r.extFields["masterAddr"] == nil)

        let route = processor.process(RemotingCommand(code: RequestCode.getRouteInfoByTopic, extFields: ["topic": "T"]), connectionId: 2)
        #expect(route.code == ResponseCode.success)
        let data = try JSONBody.decode(TopicRouteData.self, from: route.body)
        #expect(data.queueDatas == [QueueData(brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 3, perm: 6)])
        #expect(data.brokerDatas.first?.masterAddress == "127.0.0.1:10911")

        let slave = processor.process(registerRequest(addr: "127.0.0.1:20911", id: 1, topics: []), connectionId: 3)
        #expect(slave.extFields["masterAddr"] == "127.0.0.1:10911")
        #expect(slave.extFields["haServerAddr"] == "127.0.0.1:10912")
    }

    @Test func badChecksumAndMissingFieldsRejected() {
        let bad = processor.process(registerRequest(topics: [TopicConfig(topicName: "T")], crc: 12345), connectionId: 1)
        #expect(bad.code == ResponseCode.systemError)
        #expect(bad.remark == "crc32 not match")
        #expect(processor.routes.topicRoute("T") == nil)
        // 0 = unchecked.
        #expect(processor.process(registerRequest(topics: [TopicConfig(topicName: "T")], crc: 0), connectionId: 1).code == 0)

        var missing = registerRequest(topics: [])
        missing.extFields["brokerAddr"] = nil
        let r = processor.process(missing, connectionId: 1)
        #expect(r.code == ResponseCode.systemError)
        #expect(r.remark?.contains("brokerAddr") == true)
    }

    @Test func oldVersionBodyIsBareWrapper() {
        let wrapper = TopicConfigSerializeWrapper(topicConfigTable: ["Old": TopicConfig(topicName: "Old", readQueueNums: 1, writeQueueNums: 1)],
                                                  dataVersion: DataVersion(timestamp: 1, counter: 1))
        var request = registerRequest(topics: [], crc: 0)
        request.version = 37
        request.body = JSONBody.encode(wrapper)
        #expect(processor.process(request, connectionId: 1).code == ResponseCode.success)
        #expect(processor.routes.topicRoute("Old")?.queueDatas.first?.readQueueNums == 1)
    }

    @Test func unknownTopicAndUnknownCode() {
        let r = processor.process(RemotingCommand(code: RequestCode.getRouteInfoByTopic, extFields: ["topic": "Nope"]), connectionId: nil)
        #expect(r.code == ResponseCode.topicNotExist)
        #expect(r.remark == "No topic route info in name server for the topic: Nope")
        let u = processor.process(RemotingCommand(code: 10), connectionId: nil)
        #expect(u.code == ResponseCode.requestCodeNotSupported)
        #expect(u.remark == " request type 10 not supported")
    }

    @Test func clusterInfoTopicListsDeleteAndUnregister() throws {
        _ = processor.process(registerRequest(topics: [TopicConfig(topicName: "T1"), TopicConfig(topicName: "T2")]), connectionId: 1)
        _ = processor.process(registerRequest(broker: "broker-b", addr: "127.0.0.1:30911", cluster: "Other",
                                              topics: [TopicConfig(topicName: "T3")]), connectionId: 1)

        let info = processor.process(RemotingCommand(code: RequestCode.getBrokerClusterInfo), connectionId: nil)
        let cluster = try JSONBody.decode(ClusterInfo.self, from: info.body)
        #expect(cluster.clusterAddrTable == ["DefaultCluster": ["broker-a"], "Other": ["broker-b"]])
        #expect(cluster.brokerAddrTable["broker-a"]?.brokerAddrs == ["0": "127.0.0.1:10911"])

        let all = processor.process(RemotingCommand(code: RequestCode.getAllTopicListFromNameServer), connectionId: nil)
        #expect(try JSONBody.decode(TopicList.self, from: all.body).topicList == ["T1", "T2", "T3"])

        let byCluster = processor.process(RemotingCommand(code: RequestCode.getTopicsByCluster, extFields: ["cluster": "Other"]),
                                          connectionId: nil)
        #expect(try JSONBody.decode(TopicList.self, from: byCluster.body).topicList == ["T3"])

        let delete = processor.process(RemotingCommand(code: 216, extFields: ["topic": "T1"]), connectionId: nil)
        #expect(delete.code == ResponseCode.success)
        #expect(processor.routes.allTopics() == ["T2", "T3"])

        let unregister = processor.process(RemotingCommand(code: RequestCode.unregisterBroker, extFields: [
            "brokerName": "broker-b", "brokerAddr": "127.0.0.1:30911", "clusterName": "Other", "brokerId": "0",
        ]), connectionId: nil)
        #expect(unregister.code == ResponseCode.success)
        #expect(processor.routes.allTopics() == ["T2"])
    }
}
