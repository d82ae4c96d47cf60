import Foundation
import NIOCore
import NIOPosix
@testable import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport
import Testing

@Suite struct AdminTests {
    let group = MultiThreadedEventLoopGroup.singleton

    private func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func createAndDeleteTopicOnClusterMasters() async throws {
        let broker = try await FakeServer.start(group: group) { _ in Canned.response() }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let admin = AdminClient(runtime: runtime)
        let targets = try await admin.createTopic(TopicConfig(topicName: "NEW", readQueueNums: 3, writeQueueNums: 5, perm: 6), cluster: "C")
        #expect(targets == [broker.address])
        let create = try #require(broker.requests(code: RequestCode.updateAndCreateTopic).first)
        let f = create.extFields
        #expect(f["topic"] == "NEW" && f["readQueueNums"] == "3" && f["writeQueueNums"] == "5" && f["perm"] == "6")
        #expect(f["defaultTopic"] == "TBW102" && f["topicFilterType"] == "SINGLE_TAG" && f["order"] == "false")
        await #expect(throws: ClientError.self) { _ = try await admin.createTopic(TopicConfig(topicName: "X"), cluster: "Nope") }

        try await admin.deleteTopic("NEW")
        #expect(broker.requests(code: 215).first?.extFields["topic"] == "NEW")
        #expect(ns.requests(code: 216).first?.extFields["topic"] == "NEW")
        await broker.stop()
        await ns.stop()
    }

    @Test func topicStatsAndConsumerProgress() async throws {
        let broker = try await FakeServer.start(group: group) { [json] request in
            switch request.code {
            case 202:
                return Canned.response(body: json(#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"lastUpdateTimestamp":77,"maxOffset":9,"minOffset":2},{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":0,"maxOffset":4,"minOffset":0}}}"#))
            case 208:
                return Canned.response(body: json(#"{"consumeTps":1.5,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":5}}}"#))
            default:
                return Canned.response(ResponseCode.requestCodeNotSupported)
            }
        }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let admin = AdminClient(runtime: runtime)
        let stats = try await admin.topicStats(topic: "T")
        #expect(stats.map(\.queueId) == [0, 1])
        #expect(stats[1].minOffset == 2 && stats[1].maxOffset == 9 && stats[1].lastUpdateTimestamp == 77)
        let progress = try await admin.consumerProgress(group: "CG", topic: "T")
        #expect(progress.queues.count == 1 && progress.totalLag == 6 && progress.consumeTps == 1.5)
        #expect(broker.requests(code: 208).first?.extFields["consumerGroup"] == "CG")
        let clusters = try await admin.clusterInfo()
        #expect(clusters.clusterAddrTable["C"] == ["broker-a"])
        await broker.stop()
        await ns.stop()
    }

    @Test func queryByKeyAndViewById() async throws {
        let port = Locked(0)
        let broker = try await FakeServer.start(group: group) { request in
            let record = Canned.record(queueOffset: 3, physicalOffset: 900, body: Array("found".utf8),
                                       properties: [("KEYS", "order-1")], storeHost: "127.0.0.1:\(port.value)")
            switch request.code {
            case RequestCode.queryMessage:
                return request.extFields["key"] == "order-1" ? Canned.response(body: ByteBuffer(bytes: record))
                                                              : Canned.response(ResponseCode.queryNotFound)
            case RequestCode.viewMessageById:
                return request.extFields["offset"] == "900" ? Canned.response(body: ByteBuffer(bytes: record))
                                                            : Canned.response(ResponseCode.systemError, remark: "no message")
            default:
                return Canned.response(ResponseCode.requestCodeNotSupported)
            }
        }
        port.withLock { $0 = broker.port }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let admin = AdminClient(runtime: runtime)
        let found = try await admin.queryMessages(topic: "T", key: "order-1")
        #expect(found.count == 1 && found.first?.body == Array("found".utf8))
        #expect(try await admin.queryMessages(topic: "T", key: "other").isEmpty)
        let query = try #require(broker.requests(code: RequestCode.queryMessage).first)
        #expect(query.extFields["topic"] == "T" && query.extFields["maxNum"] == "64")

        let id = try #require(found.first?.msgId)
        let viewed = try await admin.viewMessage(offsetId: id)
        #expect(viewed.keys == ["order-1"] && viewed.physicalOffset == 900)
        let missing = MessageId.offsetId(storeHost: HostAddress(broker.address)!, physicalOffset: 1)
        await #expect(throws: ClientError.response(code: 1, remark: "no message", address: broker.address)) {
            _ = try await admin.viewMessage(offsetId: missing)
        }
        await #expect(throws: ClientError.self) { _ = try await admin.viewMessage(offsetId: "not-an-id") }
        await broker.stop()
        await ns.stop()
    }
}
