import Foundation
import Logging
import NIOCore
import NIOPosix
@testable import TernBroker
import TernNameServer
@testable import TernProtocol
import TernRemoting
import Testing

/// The compressed REGISTER_BROKER body (`compressedRegister=true`): Java's layout, the name server reading it,
/// and a real broker sending it.
@Suite struct CompressedRegisterTests {
    static let dataVersion = DataVersion(timestamp: 1_700_000_000_000, counter: 7)
    static let body = RegisterBrokerBody(
        topicConfigSerializeWrapper: TopicConfigSerializeWrapper(topicConfigTable: [
            "TopicA": TopicConfig(topicName: "TopicA", perm: 7, topicFilterType: "MULTI_TAG"),
            "OrderTopic": TopicConfig(topicName: "OrderTopic", readQueueNums: 4, writeQueueNums: 8, topicSysFlag: 3, order: true),
        ], dataVersion: dataVersion),
        filterServerList: ["10.0.0.1:10000"])

    /// Built by hand from Java's rules: big-endian int32 lengths, DataVersion JSON, a count, one
    /// `name readQ writeQ perm filterType` line per topic, the filter-server list JSON.
    static let goldenPayload: [UInt8] = {
        func chunk(_ s: String) -> [UInt8] {
            let b = Array(s.utf8)
            return [UInt8(b.count >> 24), UInt8(b.count >> 16 & 0xFF), UInt8(b.count >> 8 & 0xFF), UInt8(b.count & 0xFF)] + b
        }
        return chunk(#"{"counter":7,"timestamp":1700000000000}"#) + [0, 0, 0, 2]
            + chunk("OrderTopic 4 8 6 SINGLE_TAG") + chunk("TopicA 16 16 7 MULTI_TAG") + chunk(#"["10.0.0.1:10000"]"#)
    }()

    /// `goldenPayload` deflated by another zlib (Python's `zlib.compress(payload, 9)`, the level Java's
    /// `Deflater.BEST_COMPRESSION` uses).
    static let goldenStream = hex(
        "78da63606050af564ace2fcd2b492d52b232d7512ac9cc4d2d2e49cc2d50b232343740805a060606262096f62f4a492d0ac92fc84c"
            + "563051b050305308f6f473f7718d0f7174074a4b80651c150ccd40c85cc137d427c4132a2714ad6468a00782865686203395620115841e5a")

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// What survives the compressed form: `topicSysFlag` and `order` do not.
    static var decodedBody: RegisterBrokerBody {
        var expected = body
        expected.topicConfigSerializeWrapper.topicConfigTable["OrderTopic"]?.topicSysFlag = 0
        expected.topicConfigSerializeWrapper.topicConfigTable["OrderTopic"]?.order = false
        return expected
    }

    @Test func payloadMatchesJavaLayout() throws {
        #expect(Array(try Self.body.compressedPayload().readableBytesView) == Self.goldenPayload)
        // Best compression: zlib header 78 DA, as Java's DeflaterOutputStream(BEST_COMPRESSION) writes.
        let stream = try Self.body.encodeCompressed()
        #expect(Array(stream.readableBytesView.prefix(2)) == [0x78, 0xDA])
    }

    @Test func roundTripLosesOnlySysFlagAndOrder() throws {
        let decoded = try RegisterBrokerBody.decodeCompressed(try Self.body.encodeCompressed())
        #expect(decoded == Self.decodedBody)
        #expect(decoded != Self.body)
        // A stream from another deflater decodes the same.
        #expect(try RegisterBrokerBody.decodeCompressed(ByteBuffer(bytes: Self.goldenStream)) == Self.decodedBody)
    }

    @Test func malformedStreamsAreRejected() throws {
        #expect(throws: CompressedRegisterError.self) { try RegisterBrokerBody.decodeCompressed(ByteBuffer(bytes: Array("{}".utf8))) }
        // Truncated payload: the last chunk's length runs past the end.
        #expect(throws: CompressedRegisterError.self) {
            try RegisterBrokerBody.decodePayload(ByteBuffer(bytes: Self.goldenPayload.dropLast(3)))
        }
        // A line without five fields, or an unknown filter type.
        for line in ["T 1 1 6", "T 1 1 6 SINGLE_TAG x", "T x 1 6 SINGLE_TAG", "T 1 1 6 NO_TAG", " 1 1 6 SINGLE_TAG"] {
            #expect(throws: CompressedRegisterError.self) { try RegisterBrokerBody.parseTopicLine(ByteBuffer(string: line)) }
        }
        // Inflating past the limit.
        #expect(throws: CompressedRegisterError.self) {
            try RegisterBrokerBody.decodeCompressed(ByteBuffer(bytes: Self.goldenStream), maxInflatedBytes: 64)
        }
        // A name the line cannot carry.
        var spaced = Self.body
        spaced.topicConfigSerializeWrapper.topicConfigTable["a b"] = TopicConfig(topicName: "a b")
        #expect(throws: CompressedRegisterError.unencodableTopic("a b")) { try spaced.encodeCompressed() }
    }

    static func compressedRequest(_ body: ByteBuffer) -> RemotingCommand {
        var ext: RemotingExtFields = ["brokerName": "broker-a", "brokerAddr": "127.0.0.1:10911", "clusterName": "DefaultCluster",
                                      "haServerAddr": "127.0.0.1:10912", "compressed": "true"]
        ext.set("brokerId", 0)
        // The CRC covers the body as sent (compressed).
        ext.set("bodyCrc32", Int64(zlibCRC32(Array(body.readableBytesView)) & 0x7FFF_FFFF))
        return RemotingCommand(code: RequestCode.registerBroker, extFields: ext, body: body)
    }

    @Test func nameServerAnswersACompressedRegistration() throws {
        let processor = NameServerProcessor(routes: RouteInfoManager(clock: TestClock().function))
        let r = processor.process(Self.compressedRequest(ByteBuffer(bytes: Self.goldenStream)), connectionId: 1)
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        let route = processor.process(RemotingCommand(code: RequestCode.getRouteInfoByTopic, extFields: ["topic": "OrderTopic"]),
                                      connectionId: 2)
        #expect(route.code == ResponseCode.success)
        let data = try JSONBody.decode(TopicRouteData.self, from: route.body)
        #expect(data.queueDatas == [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 8, perm: 6)])
        #expect(processor.routes.topicRoute("TopicA")?.queueDatas.first?.perm == 7)

        // Not a zlib stream: refused, nothing registered.
        let other = NameServerProcessor(routes: RouteInfoManager(clock: TestClock().function))
        let bad = other.process(Self.compressedRequest(ByteBuffer(bytes: Self.goldenPayload)), connectionId: 1)
        #expect(bad.code == ResponseCode.systemError)
        #expect(bad.remark?.contains("inflate") == true, "\(bad.remark ?? "")")
        #expect(other.routes.topicRoute("OrderTopic") == nil)
    }

    @Test func compressedRegisterProperty() throws {
        var config = BrokerConfig()
        #expect(config.compressedRegister == false)
        _ = try config.apply(properties: "compressedRegister=true\n")
        #expect(config.compressedRegister)
        #expect(throws: BrokerError.self) { _ = try config.apply(properties: "compressedRegister=maybe\n") }
    }

    @Test func registrarSendsTheCompressedFormWhenConfigured() throws {
        let logger = Logger(label: "test")
        let (zipped, flag) = NameServerRegistrar.registerBody(Self.body, compressed: true, logger: logger)
        #expect(flag)
        #expect(try RegisterBrokerBody.decodeCompressed(zipped) == Self.decodedBody)
        let (json, plain) = NameServerRegistrar.registerBody(Self.body, compressed: false, logger: logger)
        #expect(!plain)
        #expect(try JSONBody.decode(RegisterBrokerBody.self, from: json) == Self.body)
    }

    @Test func brokerWithCompressedRegisterIsRoutable() async throws {
        let ns = try await NameServerFixture.start()
        let dir = NSTemporaryDirectory() + "tern-ns-compressed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let broker = try await BrokerRegistrationTests.startBroker(namesrv: [ns.address], group: group, dir: dir,
                                                                   compressedRegister: true)

        try broker.context.topics.update(TopicConfig(topicName: "Zipped", readQueueNums: 5, writeQueueNums: 5))
        #expect(try await eventually { try await ns.route("Zipped")?.queueDatas.first?.writeQueueNums == 5 })
        #expect(try await ns.route("TBW102")?.queueDatas.first?.perm == 7)

        await broker.shutdown()
        try await group.shutdownGracefully()
        await ns.stop()
    }

    /// Body sizes for a 100,000-topic broker (the report's numbers); asserts only that compression pays.
    @Test func bodySizeFor100kTopics() throws {
        var table: [String: TopicConfig] = [:]
        for i in 0..<100_000 {
            let name = "benchmark-topic-\(i)"
            table[name] = TopicConfig(topicName: name, readQueueNums: 8, writeQueueNums: 8)
        }
        let body = RegisterBrokerBody(topicConfigSerializeWrapper: TopicConfigSerializeWrapper(
            topicConfigTable: table, dataVersion: Self.dataVersion))
        let json = JSONBody.encode(body).readableBytes
        let payload = try body.compressedPayload().readableBytes
        let compressed = try body.encodeCompressed()
        print("register body, 100000 topics: JSON \(json) B, compressed-form payload \(payload) B, zlib \(compressed.readableBytes) B")
        #expect(compressed.readableBytes * 10 < json)
        #expect(try RegisterBrokerBody.decodeCompressed(compressed).topicConfigSerializeWrapper.topicConfigTable.count == 100_000)
        // Its JSON form would not fit a 16 MiB frame: the registrar sends it compressed even when not configured to.
        let (sent, flag) = NameServerRegistrar.registerBody(body, compressed: false, logger: Logger(label: "test"))
        #expect(flag && sent.readableBytes == compressed.readableBytes)
    }
}
