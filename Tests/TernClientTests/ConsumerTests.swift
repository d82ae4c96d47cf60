import Foundation
import NIOCore
import NIOPosix
@testable import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport
import Testing

@Suite struct ConsumerTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func pullDecodesTwoConcatenatedRecords() async throws {
        let plain = Canned.record(queueOffset: 7, physicalOffset: 4096, body: Array("first".utf8),
                                  properties: [("TAGS", "TagA"), ("KEYS", "k1 k2"), ("UNIQ_KEY", "ABC"), ("x", "y")])
        let big = [UInt8](repeating: 0x42, count: 5000)
        let compressed = Array(buffer: try Zlib.deflate(ByteBuffer(bytes: big)))
        let packed = Canned.record(queueOffset: 8, physicalOffset: 4096 + Int64(plain.count), body: compressed,
                                   properties: [("TAGS", "TagB")], sysFlag: SysFlag.compressed)
        let broker = try await FakeServer.start(group: group) { request in
            Canned.response(["nextBeginOffset": "9", "minOffset": "0", "maxOffset": "9", "suggestWhichBrokerId": "0"],
                            body: ByteBuffer(bytes: plain + packed), remark: "FOUND")
        }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let consumer = PullConsumer(runtime: runtime, group: "CG")
        let queues = try await consumer.queues(topic: "T")
        // Readable queues include broker-b's (reading does not need a master in the route).
        #expect(queues.map(\.description) == ["T@broker-a#0", "T@broker-a#1", "T@broker-b#0"])

        let result = try await consumer.pull(queue: queues[1], offset: 7, maxNums: 16, subscription: "TagA || TagB",
                                             suspendMillis: 500)
        #expect(result.status == .found && result.nextBeginOffset == 9 && result.maxOffset == 9)
        try #require(result.messages.count == 2)
        #expect(result.messageCount == 2 && result.bodyBytes == plain.count + packed.count)
        let m = result.messages[0]
        #expect(m.topic == "T" && m.queueId == 1 && m.queueOffset == 7 && m.physicalOffset == 4096)
        #expect(m.body == Array("first".utf8) && m.tags == "TagA" && m.keys == ["k1", "k2"] && m.uniqueKey == "ABC")
        #expect(m.properties["x"] == "y" && m.flag == 7 && m.reconsumeTimes == 2)
        #expect(m.bornTimestamp == 1_700_000_000_123 && m.storeTimestamp == 1_700_000_000_456)
        #expect(m.bornHost == "10.0.0.9:5555" && m.storeHost == "127.0.0.1:10911")
        #expect(m.msgId == MessageId.offsetId(storeHost: HostAddress("127.0.0.1:10911")!, physicalOffset: 4096))
        let n = result.messages[1]
        #expect(n.body == big && n.tags == "TagB" && n.queueOffset == 8)

        let request = try #require(broker.requests(code: RequestCode.pullMessage).first)
        let f = request.extFields
        #expect(f["consumerGroup"] == "CG" && f["topic"] == "T" && f["queueId"] == "1" && f["queueOffset"] == "7")
        #expect(f["maxMsgNums"] == "16" && f["sysFlag"] == "6" && f["suspendTimeoutMillis"] == "500")
        #expect(f["subscription"] == "TagA || TagB" && f["subVersion"] == "0")

        // Counting without decoding.
        let counted = try await consumer.pull(queue: queues[1], offset: 7, decode: false)
        #expect(counted.messages.isEmpty && counted.messageCount == 2)
        await broker.stop()
        await ns.stop()
    }

    @Test func pullStatusMapping() async throws {
        let code = Locked(ResponseCode.pullNotFound)
        let broker = try await FakeServer.start(group: group) { _ in
            Canned.response(code.value, ["nextBeginOffset": "3", "minOffset": "1", "maxOffset": "3"])
        }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let consumer = PullConsumer(runtime: runtime, group: "CG")
        let q = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 0)
        let expected: [(Int, PullStatus)] = [(19, .noNewMessage), (20, .noMatchedMessage), (21, .offsetIllegal)]
        for (c, status) in expected {
            code.withLock { $0 = c }
            let r = try await consumer.pull(queue: q, offset: 0)
            #expect(r.status == status && r.nextBeginOffset == 3 && r.minOffset == 1 && r.messages.isEmpty)
        }
        code.withLock { $0 = ResponseCode.subscriptionGroupNotExist }
        await #expect(throws: ClientError.self) { _ = try await consumer.pull(queue: q, offset: 0) }
        await broker.stop()
        await ns.stop()
    }

    @Test func offsetRequests() async throws {
        let broker = try await FakeServer.start(group: group) { request in
            switch request.code {
            case RequestCode.queryConsumerOffset:
                return request.extFields["queueId"] == "0" ? Canned.response(ResponseCode.queryNotFound)
                                                           : Canned.response(["offset": "42"])
            case RequestCode.updateConsumerOffset: return Canned.response()
            case RequestCode.getMaxOffset: return Canned.response(["offset": "100"])
            case RequestCode.getMinOffset: return Canned.response(["offset": "10"])
            case RequestCode.searchOffsetByTimestamp: return Canned.response(["offset": request.extFields["timestamp"] == "1234" ? "55" : "-1"])
            default: return Canned.response(ResponseCode.requestCodeNotSupported)
            }
        }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let consumer = PullConsumer(runtime: runtime, group: "CG")
        let q0 = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 0)
        let q1 = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 1)
        #expect(try await consumer.committedOffset(queue: q0) == nil)
        #expect(try await consumer.committedOffset(queue: q1) == 42)
        try await consumer.commitOffset(queue: q1, offset: 43)
        #expect(try await consumer.maxOffset(queue: q1) == 100)
        #expect(try await consumer.minOffset(queue: q1) == 10)
        #expect(try await consumer.offset(queue: q1, forTimestamp: 1234) == 55)
        let update = try #require(broker.requests(code: RequestCode.updateConsumerOffset).first)
        #expect(update.extFields["consumerGroup"] == "CG" && update.extFields["queueId"] == "1" && update.extFields["commitOffset"] == "43")
        #expect(update.isOneway == false)
        #expect(broker.requests(code: RequestCode.getMaxOffset).first?.extFields["consumerGroup"] == nil)
        // Unsupported code -> error, not a bogus value.
        await #expect(throws: ClientError.self) { _ = try await consumer.earliestStoreTime(queue: q1) }
        await broker.stop()
        await ns.stop()
    }
}

@Suite struct TransportFailureTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func unansweredRequestTimesOut() async throws {
        let broker = try await FakeServer.start(group: group) { _ in nil }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        var options = ClientOptions.forTests(nameServer: ns.address)
        options.requestTimeout = .milliseconds(200)
        let runtime = ClientRuntime(options: options, group: group)
        defer { runtime.shutdown() }
        // The route is pinned so only the broker call runs under the 200 ms timeout.
        runtime.pinRoute(topic: "T", brokerAddress: broker.address, queues: 4)
        let consumer = PullConsumer(runtime: runtime, group: "CG")
        let start = ContinuousClock.now
        await #expect(throws: TransportError.timeout(code: RequestCode.getMaxOffset, address: broker.address)) {
            _ = try await consumer.maxOffset(queue: MessageQueue(topic: "T", brokerName: "broker-a", queueId: 0))
        }
        #expect(ContinuousClock.now - start < .seconds(10))  // 200 ms timeout; generous for a loaded CI machine
        await broker.stop()
        await ns.stop()
    }

    @Test func unreachableNameServerFailsAndFailoverWorks() async throws {
        // Port 1 on loopback: nothing listens there (a stopped test server's port could be reused by a
        // parallel test).
        let deadAddress = "127.0.0.1:1"
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: deadAddress), group: group)
        defer { runtime.shutdown() }
        await #expect {
            _ = try await AdminClient(runtime: runtime).topicList()
        } throws: { error in
            if case ClientError.nameServerUnreachable(let servers, let reason) = error {
                return servers == [deadAddress] && reason.contains("cannot connect")
            }
            return false
        }

        let live = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: "127.0.0.1:1"))
        let both = ClientRuntime(options: ClientOptions.forTests(nameServer: "\(deadAddress);\(live.address)"), group: group)
        defer { both.shutdown() }
        #expect(try await AdminClient(runtime: both).topicList() == ["A-first", "T"])
        await live.stop()
    }

    @Test func sendToDeadBrokerFailsWithConnectError() async throws {
        let deadAddress = "127.0.0.1:1"  // nothing listens on port 1
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: deadAddress))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        await #expect(throws: TransportError.self) {
            _ = try await Producer(runtime: runtime).send(topic: "T", body: [1])
        }
        await ns.stop()
    }
}
