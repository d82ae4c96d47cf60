import Foundation
import NIOCore
import NIOPosix
@testable import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport
import Testing

/// Properties of a captured send request as a dictionary.
func properties(of request: RemotingCommand, field: String = "i") -> [String: String] {
    Dictionary(MessageProperties.decode(Array((request.extFields[field] ?? "").utf8)), uniquingKeysWith: { $1 })
}

@Suite struct ProducerTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func routeLookupAndV2SendFields() async throws {
        let broker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:10911"))
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        var options = ProducerOptions()
        options.group = "PG"
        let producer = Producer(runtime: runtime, options: options)

        let r1 = try await producer.send(topic: "T", body: Array("hello".utf8), tags: "TagA", keys: ["k1", "k2"],
                                         properties: ["color": "red"])
        let r2 = try await producer.send(topic: "T", body: Array("world".utf8))
        #expect(r1.status == .ok)
        #expect(r1.msgId == MessageId.offsetId(storeHost: HostAddress("127.0.0.1:10911")!, physicalOffset: 1000))
        #expect(r1.queueOffset == 0 && r2.queueOffset == 1)
        #expect(r1.queue.brokerName == "broker-a" && r2.queue.brokerName == "broker-a")
        // Round-robin over broker-a's two writable queues; broker-b has no master and is skipped.
        #expect(Set([r1.queue.queueId, r2.queue.queueId]) == [0, 1])

        // One route lookup (cached afterwards), for the right topic.
        let lookups = ns.requests(code: RequestCode.getRouteInfoByTopic)
        #expect(lookups.count == 1)
        #expect(lookups.first?.extFields["topic"] == "T")

        let sends = broker.requests(code: RequestCode.sendMessageV2)
        try #require(sends.count == 2)
        let f = sends[0].extFields
        #expect(f["a"] == "PG" && f["b"] == "T" && f["c"] == "TBW102" && f["d"] == "4")
        #expect(f["e"] == String(r1.queue.queueId) && f["f"] == "0" && f["h"] == "0" && f["j"] == "0")
        #expect(f["k"] == "false" && f["m"] == "false")
        let born = try #require(f.int64("g"))
        #expect(abs(born - Int64(Date().timeIntervalSince1970 * 1000)) < 60_000)
        #expect(sends[0].body.map { String(buffer: $0) } == "hello")

        let p1 = properties(of: sends[0]), p2 = properties(of: sends[1])
        #expect(p1["TAGS"] == "TagA" && p1["KEYS"] == "k1 k2" && p1["color"] == "red" && p1["WAIT"] == "true")
        let u1 = try #require(p1["UNIQ_KEY"]), u2 = try #require(p2["UNIQ_KEY"])
        #expect(u1.count == 32 && u1.allSatisfy(\.isHexDigit) && u1 != u2)
        #expect(r1.uniqueKey == u1)
        #expect(p2["TAGS"] == nil)
        await broker.stop()
        await ns.stop()
    }

    @Test func sendHeaderValuesAreJSONStringsOnTheWire() async throws {
        let send = Canned.sendAnswer(storeHost: "127.0.0.1:10911")
        let broker = try await WireCaptureServer.start(group: group, answer: send)
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        var options = ProducerOptions()
        options.useV2Header = false
        _ = try await Producer(runtime: runtime, options: options).send(topic: "T", body: [1, 2, 3], queue:
            MessageQueue(topic: "T", brokerName: "broker-a", queueId: 1))
        let header = try #require(broker.headers.first)
        #expect(header.contains("\"code\":10"))
        for field in ["\"queueId\":\"1\"", "\"sysFlag\":\"0\"", "\"defaultTopicQueueNums\":\"4\"", "\"batch\":\"false\"",
                      "\"topic\":\"T\"", "\"flag\":\"0\""] {
            #expect(header.contains(field), "missing \(field) in \(header)")
        }
        // Property separators are escaped control characters inside the JSON string.
        #expect(header.contains("WAIT\\u0001true\\u0002"))
        await broker.stop()
        await ns.stop()
    }

    @Test func binaryHeaderRoundTrip() async throws {
        let broker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:10911"))
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        var options = ClientOptions.forTests(nameServer: ns.address)
        options.headerEncoding = .binary
        let runtime = ClientRuntime(options: options, group: group)
        defer { runtime.shutdown() }
        let result = try await Producer(runtime: runtime).send(topic: "T", body: Array("bin".utf8), tags: "X")
        #expect(result.status == .ok && result.queueOffset == 0)
        let route = try #require(ns.requests.first)
        #expect(route.serializeType == .rocketmq && route.extFields["topic"] == "T")
        let send = try #require(broker.requests(code: RequestCode.sendMessageV2).first)
        #expect(send.serializeType == .rocketmq)
        #expect(send.extFields["b"] == "T")
        #expect(properties(of: send)["TAGS"] == "X")
        #expect(send.body.map { String(buffer: $0) } == "bin")
        await broker.stop()
        await ns.stop()
    }

    @Test func batchBodyAndHeaders() async throws {
        let broker = try await FakeServer.start(group: group) { request in
            Canned.response(["msgId": "A,B", "queueId": request.extFields["e"] ?? request.extFields["queueId"] ?? "0",
                             "queueOffset": "5"])
        }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let entries = [BatchEntry(body: Array("one".utf8), tags: "a", keys: ["k"]), BatchEntry(body: Array("two".utf8), flag: 3)]
        let r = try await Producer(runtime: runtime).sendBatch(topic: "T", messages: entries)
        #expect(r.msgIds == ["A", "B"] && r.queueOffset == 5 && r.uniqueKey == nil)
        var v1 = ProducerOptions()
        v1.useV2Header = false
        _ = try await Producer(runtime: runtime, options: v1).sendBatch(topic: "T", messages: entries)

        let v2Request = try #require(broker.requests(code: RequestCode.sendBatchMessage).first)
        #expect(v2Request.extFields["m"] == "true")
        #expect(properties(of: v2Request)["WAIT"] == "true" && properties(of: v2Request)["UNIQ_KEY"] == nil)
        let v1Request = try #require(broker.requests(code: RequestCode.sendMessage).first)
        #expect(v1Request.extFields["batch"] == "true" && v1Request.extFields["producerGroup"] == "TERN_PRODUCER_GROUP")

        let body = try #require(v2Request.body)
        let items = try body.withUnsafeReadableBytes { try BatchCodec.decode($0) }
        try #require(items.count == 2)
        #expect(items[0].body == Array("one".utf8) && items[1].body == Array("two".utf8) && items[1].flag == 3)
        let p0 = Dictionary(MessageProperties.decode(items[0].properties), uniquingKeysWith: { $1 })
        let p1 = Dictionary(MessageProperties.decode(items[1].properties), uniquingKeysWith: { $1 })
        #expect(p0["TAGS"] == "a" && p0["KEYS"] == "k")
        #expect(p0["UNIQ_KEY"] != nil && p1["UNIQ_KEY"] != nil && p0["UNIQ_KEY"] != p1["UNIQ_KEY"])
        await broker.stop()
        await ns.stop()
    }

    @Test func largeBodiesAreCompressed() async throws {
        let broker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:10911"))
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let body = [UInt8](repeating: 65, count: 10_000)
        _ = try await Producer(runtime: runtime).send(topic: "T", body: body)
        let send = try #require(broker.requests(code: RequestCode.sendMessageV2).first)
        #expect(send.extFields["f"] == "1")
        let wire = try #require(send.body)
        #expect(wire.readableBytes < 1000)
        #expect(try Zlib.inflate(Array(buffer: wire)) == body)
        await broker.stop()
        await ns.stop()
    }

    @Test func brokerErrorsRetryOtherQueuesThenFail() async throws {
        let broker = try await FakeServer.start(group: group) { _ in Canned.response(ResponseCode.systemError, remark: "disk on fire") }
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        await #expect(throws: ClientError.response(code: 1, remark: "disk on fire", address: broker.address)) {
            _ = try await Producer(runtime: runtime).send(topic: "T", body: [1])
        }
        // 1 attempt + 2 retries.
        #expect(broker.requests.count == 3)
        // A non-retriable code fails at once.
        let busy = try await FakeServer.start(group: group) { _ in Canned.response(ResponseCode.systemBusy) }
        let ns2 = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: busy.address))
        let runtime2 = ClientRuntime(options: ClientOptions.forTests(nameServer: ns2.address), group: group)
        defer { runtime2.shutdown() }
        await #expect(throws: ClientError.self) { _ = try await Producer(runtime: runtime2).send(topic: "T", body: [1]) }
        #expect(busy.requests.count == 1)
        for s in [broker, ns, busy, ns2] { await s.stop() }
    }

    @Test func expiredRouteIsRefreshedAndStaleRouteOutlivesNameServer() async throws {
        let broker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:10911"))
        let down = Locked(false)
        let routes = Canned.nameServer(topic: "T", brokerAddress: broker.address)
        let ns = try await FakeServer.start(group: group) { down.value ? nil : routes($0) }
        var options = ClientOptions.forTests(nameServer: ns.address)
        options.routeTTL = .milliseconds(1)
        // Long enough for a loaded machine to answer the first lookup; the stale-route path after the name
        // server goes quiet still times out within the test.
        options.requestTimeout = .seconds(2)
        let runtime = ClientRuntime(options: options, group: group)
        defer { runtime.shutdown() }
        let producer = Producer(runtime: runtime)
        _ = try await producer.send(topic: "T", body: [1])
        try await Task.sleep(for: .milliseconds(5))
        _ = try await producer.send(topic: "T", body: [2])
        #expect(ns.requests(code: RequestCode.getRouteInfoByTopic).count == 2)

        // The name server stops answering: the expired route still serves sends.
        down.withLock { $0 = true }
        try await Task.sleep(for: .milliseconds(5))
        let r = try await producer.send(topic: "T", body: [3])
        #expect(r.queueOffset == 2)
        #expect(ns.requests(code: RequestCode.getRouteInfoByTopic).count == 3)
        // Without a cached route the failure says which name server is unreachable.
        await #expect(throws: ClientError.nameServerUnreachable([ns.address], reason:
            TransportError.timeout(code: RequestCode.getRouteInfoByTopic, address: ns.address).description)) {
            _ = try await producer.send(topic: "Other", body: [4])
        }
        await broker.stop()
        await ns.stop()
    }

    @Test func pinnedRouteNeedsNoNameServer() async throws {
        let broker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:10911"))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ""), group: group)
        defer { runtime.shutdown() }
        runtime.pinRoute(topic: "T", brokerAddress: broker.address, queues: 3)
        let producer = Producer(runtime: runtime)
        var ids: Set<Int32> = []
        for _ in 0 ..< 3 { ids.insert(try await producer.send(topic: "T", body: [1]).queueId) }
        #expect(ids == [0, 1, 2])
        #expect(broker.requests(code: RequestCode.sendMessageV2).count == 3)
        await #expect(throws: ClientError.invalidArgument("no name-server address configured")) {
            _ = try await producer.send(topic: "Unpinned", body: [1])
        }
        await broker.stop()
    }

    @Test func unknownTopicIsReported() async throws {
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: "127.0.0.1:1"))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        await #expect(throws: ClientError.topicNotFound("Nope")) {
            _ = try await Producer(runtime: runtime).send(topic: "Nope", body: [1])
        }
        await ns.stop()
    }

    /// The callback form sends what the future form sends, retries as it does, and reports a send that cannot
    /// leave (unknown topic) through its callback.
    @Test func callbackSendsRetriesAndFails() async throws {
        func send(_ producer: Producer, topic: String) async -> Result<SendResult, any Error> {
            await withCheckedContinuation { done in producer.send(topic: topic, body: ByteBuffer(string: "cb")) { done.resume(returning: $0) } }
        }
        let broker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:10911"))
        let ns = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: broker.address))
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: ns.address), group: group)
        defer { runtime.shutdown() }
        let producer = Producer(runtime: runtime)
        let sent = try await send(producer, topic: "T").get()
        let request = try #require(broker.requests(code: RequestCode.sendMessageV2).first)
        #expect(sent.status == .ok && properties(of: request)["UNIQ_KEY"] == sent.uniqueKey)
        #expect(request.body.map { String(buffer: $0) } == "cb")
        await #expect(throws: ClientError.topicNotFound("Nope")) { try await send(producer, topic: "Nope").get() }

        let failing = try await FakeServer.start(group: group) { _ in Canned.response(ResponseCode.systemError, remark: "no") }
        let ns2 = try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: failing.address))
        let runtime2 = ClientRuntime(options: ClientOptions.forTests(nameServer: ns2.address), group: group)
        defer { runtime2.shutdown() }
        await #expect(throws: ClientError.response(code: 1, remark: "no", address: failing.address)) {
            try await send(Producer(runtime: runtime2), topic: "T").get()
        }
        #expect(failing.requests.count == 3)  // 1 attempt + 2 retries
        for s in [broker, ns, failing, ns2] { await s.stop() }
    }
}
