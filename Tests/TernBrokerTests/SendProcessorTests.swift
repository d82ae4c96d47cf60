import CompressNIO
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// Raw send frames as the C++ / Java clients build them, and read-back of what the store holds.
enum SendFrames {
    static func properties(_ entries: [(String, String)]) -> String {
        String(decoding: MessageProperties.encode(entries), as: UTF8.self)
    }

    /// SEND_MESSAGE (10) fields as C++ 1.2.3 writes them (Java names).
    static func javaFields(topic: String, queueId: Int32 = 0, properties: String = "", sysFlag: Int32 = 0,
                           flag: Int32 = 0, bornTimestamp: Int64 = 1_700_000_000_000, batch: Bool = false,
                           defaultTopicQueueNums: Int = 4) -> RemotingExtFields {
        var f: RemotingExtFields = [
            "AccessKey": "", "OnsChannel": "ALIYUN", "Signature": "x", "producerGroup": "PG", "topic": topic,
            "defaultTopic": "TBW102", "properties": properties, "reconsumeTimes": "0", "unitMode": "0",
            "batch": batch ? "1" : "0",
        ]
        f.set("defaultTopicQueueNums", defaultTopicQueueNums)
        f.set("queueId", queueId)
        f.set("sysFlag", sysFlag)
        f.set("flag", flag)
        f.set("bornTimestamp", bornTimestamp)
        return f
    }

    /// SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE fields (short names a...m).
    static func shortFields(topic: String, queueId: Int32 = 0, properties: String = "", sysFlag: Int32 = 0,
                            flag: Int32 = 0, bornTimestamp: Int64 = 1_700_000_000_000, batch: Bool = false) -> RemotingExtFields {
        var f: RemotingExtFields = ["a": "PG", "b": topic, "c": "TBW102", "d": "4", "i": properties, "j": "0",
                                    "k": "false", "m": batch ? "true" : "false"]
        f.set("e", queueId)
        f.set("f", sysFlag)
        f.set("g", bornTimestamp)
        f.set("h", flag)
        return f
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func zlib(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let out = try input.compress(with: .zlib())
        return Array(out.readableBytesView)
    }

    /// A stored record copied out of the log.
    struct Stored: Equatable {
        var topic: String
        var queueId: Int32
        var queueOffset: Int64
        var physicalOffset: Int64
        var flag: Int32
        var sysFlag: Int32
        var bornTimestamp: Int64
        var bornHost: String
        var storeHost: String
        var body: [UInt8]
        var properties: [(String, String)]

        init(_ r: RecordView) {
            topic = r.topicString; queueId = r.queueId; queueOffset = r.queueOffset; physicalOffset = r.physicalOffset
            flag = r.flag; sysFlag = r.sysFlag; bornTimestamp = r.bornTimestamp
            bornHost = r.bornHost.description; storeHost = r.storeHost.description
            body = Array(r.body); properties = MessageProperties.decode(r.properties)
        }

        func property(_ name: String) -> String? { properties.last(where: { $0.0 == name })?.1 }

        static func == (a: Stored, b: Stored) -> Bool {
            a.physicalOffset == b.physicalOffset && a.body == b.body && a.topic == b.topic
        }
    }

    /// Every record of a queue, after the indexes caught up with the log.
    static func stored(_ store: MessageStore, _ topic: String, _ queueId: Int32) throws -> [Stored] {
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let r = try store.getMessages(QueueKey(topic: topic, queueId: queueId), from: 0, maxCount: 1000, maxBytes: .max)
        return r.messages.map { Stored($0.record) }
    }

    /// Records concatenated in a response body (QUERY_MESSAGE / VIEW_MESSAGE_BY_ID / PULL).
    static func records(in body: ByteBuffer?) -> [Stored] {
        guard let body else { return [] }
        return body.withUnsafeReadableBytes { bytes in
            var out: [Stored] = []
            var at = 0
            while at + 4 <= bytes.count {
                let size = Int(Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                guard size > 0, at + size <= bytes.count else { break }
                out.append(Stored(RecordView(UnsafeRawBufferPointer(rebasing: bytes[at ..< at + size]))))
                at += size
            }
            return out
        }
    }

    static func physicalOffsets(msgId: String?) -> [Int64] {
        (msgId ?? "").split(separator: ",").compactMap { MessageId.decodeOffsetId(String($0))?.physicalOffset }
    }
}


@Suite struct SendProcessorTests {
    @Test func sendMessageWithJavaNamesAutoCreatesAndStores() async throws {
        let f = try await BrokerFixture.start()
        let props = SendFrames.properties([("WAIT", "true"), ("TAGS", "TagA"), ("UNIQ_KEY", "U1")])
        let r = try await f.call(RequestCode.sendMessage,
                                 SendFrames.javaFields(topic: "T1", queueId: 2, properties: props, flag: 7),
                                 body: SendFrames.buffer("hello"))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        #expect(r.extFields["queueId"] == "2")
        #expect(r.extFields["queueOffset"] == "0")
        #expect(r.extFields["MSG_REGION"] == "DefaultRegion")
        #expect(r.extFields["TRACE_ON"] == "true")
        let decoded = try #require(MessageId.decodeOffsetId(r.extFields["msgId"] ?? ""))
        #expect(decoded.storeHost == f.broker.context.storeHost)
        #expect(r.extFields["msgId"] == MessageId.offsetId(storeHost: decoded.storeHost, physicalOffset: decoded.physicalOffset))

        let r2 = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "T1", queueId: 2, properties: props),
                                  body: SendFrames.buffer("again"))
        #expect(r2.extFields["queueOffset"] == "1")

        // Auto-created from TBW102 with min(defaultTopicQueueNums 4, 8) queues, without the INHERIT bit.
        let config = try #require(f.broker.context.topics.config("T1"))
        #expect(config.writeQueueNums == 4 && config.readQueueNums == 4)
        #expect(config.perm == Perm.readWrite)

        let stored = try SendFrames.stored(f.broker.store, "T1", 2)
        try #require(stored.count == 2)
        let m = stored[0]
        #expect(m.physicalOffset == decoded.physicalOffset)
        #expect(m.body == Array("hello".utf8))
        #expect(m.topic == "T1" && m.queueId == 2 && m.queueOffset == 0 && m.flag == 7 && m.sysFlag == 0)
        #expect(m.bornTimestamp == 1_700_000_000_000)
        #expect(m.property("TAGS") == "TagA" && m.property("UNIQ_KEY") == "U1")
        #expect(m.bornHost.hasPrefix("127.0.0.1:") && m.bornHost != "127.0.0.1:0")
        #expect(m.storeHost == f.broker.context.storeHost.description)
        #expect(stored[1].queueOffset == 1 && stored[1].body == Array("again".utf8))
        await f.stop()
    }

    @Test func sendMessageV2UsesShortNames() async throws {
        let f = try await BrokerFixture.start()
        let props = SendFrames.properties([("KEYS", "k1")])
        let r = try await f.call(RequestCode.sendMessageV2,
                                 SendFrames.shortFields(topic: "T2", queueId: 1, properties: props, flag: 3, bornTimestamp: 42),
                                 body: SendFrames.buffer("v2"))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        #expect(r.extFields["queueId"] == "1")
        let stored = try SendFrames.stored(f.broker.store, "T2", 1)
        try #require(stored.count == 1)
        #expect(stored[0].body == Array("v2".utf8) && stored[0].flag == 3 && stored[0].bornTimestamp == 42)
        #expect(stored[0].property("KEYS") == "k1")
        await f.stop()
    }

    /// The last topic's bytes are kept for the next send: alternating topics must each land in their own.
    @Test func alternatingTopicsEachStoreToTheirOwn() async throws {
        let f = try await BrokerFixture.start()
        for (i, topic) in ["TA", "TB", "TA", "TA", "TB"].enumerated() {
            let r = try await f.call(RequestCode.sendMessageV2, SendFrames.shortFields(topic: topic, queueId: 0),
                                     body: SendFrames.buffer("\(topic) \(i)"))
            #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        }
        #expect(try SendFrames.stored(f.broker.store, "TA", 0).map { String(decoding: $0.body, as: UTF8.self) }
                == ["TA 0", "TA 2", "TA 3"])
        #expect(try SendFrames.stored(f.broker.store, "TB", 0).map { String(decoding: $0.body, as: UTF8.self) }
                == ["TB 1", "TB 4"])
        await f.stop()
    }

    @Test func negativeQueueIdRoundRobins() async throws {
        let f = try await BrokerFixture.start()
        var queues = Set<String>()
        for _ in 0 ..< 8 {
            let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "RR", queueId: -1), body: SendFrames.buffer("x"))
            #expect(r.code == ResponseCode.success)
            queues.insert(r.extFields["queueId"] ?? "?")
        }
        #expect(queues == ["0", "1", "2", "3"])
        await f.stop()
    }

    static let batchItems = [
        BatchItem(flag: 1, body: Array("first".utf8), properties: MessageProperties.encode([("UNIQ_KEY", "B1"), ("KEYS", "bk")])),
        BatchItem(flag: 2, body: [UInt8](repeating: 0x41, count: 3000), properties: MessageProperties.encode([("UNIQ_KEY", "B2")])),
        BatchItem(flag: 3, body: Array("third".utf8), properties: []),
    ]

    /// Checks the three stored items of `batchItems` and the response that named them.
    static func expectBatchStored(_ f: BrokerFixture, _ r: RemotingCommand, topic: String, queueId: Int32,
                                  firstOffset: Int64 = 0) throws {
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        #expect(r.extFields["queueOffset"] == String(firstOffset))
        let ids = SendFrames.physicalOffsets(msgId: r.extFields["msgId"])
        let stored = try SendFrames.stored(f.broker.store, topic, queueId).filter { $0.queueOffset >= firstOffset }
        try #require(stored.count == batchItems.count)
        #expect(ids == stored.map(\.physicalOffset))
        for (i, (m, item)) in zip(stored, batchItems).enumerated() {
            #expect(m.queueOffset == firstOffset + Int64(i))
            #expect(m.body == item.body)
            #expect(m.flag == item.flag)
            #expect(m.sysFlag & SysFlag.compressed == 0)
            for (name, value) in MessageProperties.decode(item.properties) { #expect(m.property(name) == value) }
            // The batch header's properties are appended to every item (Java's broker does the same).
            #expect(m.property("WAIT") == "true")
        }
    }

    @Test func batchViaCode320() async throws {
        let f = try await BrokerFixture.start()
        let body = BatchCodec.encode(Self.batchItems)
        let r = try await f.call(RequestCode.sendBatchMessage,
                                 SendFrames.shortFields(topic: "B320", queueId: 0, properties: SendFrames.properties([("WAIT", "true")])),
                                 body: SendFrames.buffer(body))
        try Self.expectBatchStored(f, r, topic: "B320", queueId: 0)
        // C++ 2.x sends batches as 310 with m=true.
        let v2 = try await f.call(RequestCode.sendMessageV2,
                                  SendFrames.shortFields(topic: "B320", queueId: 0, properties: SendFrames.properties([("WAIT", "true")]), batch: true),
                                  body: SendFrames.buffer(body))
        try Self.expectBatchStored(f, v2, topic: "B320", queueId: 0, firstOffset: 3)
        // Batches to retry topics and transactional batches are refused (Java's rules).
        let retry = try await f.call(RequestCode.sendBatchMessage, SendFrames.shortFields(topic: "%RETRY%G"), body: SendFrames.buffer(body))
        #expect(retry.code == ResponseCode.messageIllegal)
        let tx = try await f.call(RequestCode.sendBatchMessage, SendFrames.shortFields(topic: "B320", sysFlag: SysFlag.transactionPrepared),
                                  body: SendFrames.buffer(body))
        #expect(tx.code == ResponseCode.messageIllegal)
        await f.stop()
    }

    @Test func batchViaCode10WithBatchFlag() async throws {
        let f = try await BrokerFixture.start()
        let body = BatchCodec.encode(Self.batchItems)
        let props = SendFrames.properties([("WAIT", "true")])
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "B10", queueId: 1, properties: props, batch: true),
                                 body: SendFrames.buffer(body))
        try Self.expectBatchStored(f, r, topic: "B10", queueId: 1)

        // C++ 1.2.3 deflates batches >= 4 KiB and sets sysFlag bit 0: inflated, split, stored uncompressed.
        let compressed = try SendFrames.zlib(body)
        #expect(compressed.count < body.count)
        let rz = try await f.call(RequestCode.sendMessage,
                                  SendFrames.javaFields(topic: "B10", queueId: 1, properties: props, sysFlag: SysFlag.compressed, batch: true),
                                  body: SendFrames.buffer(compressed))
        try Self.expectBatchStored(f, rz, topic: "B10", queueId: 1, firstOffset: 3)

        // A body that is not zlib data is refused and stores nothing.
        let before = f.broker.store.maxPhysicalOffset
        let bad = try await f.call(RequestCode.sendMessage,
                                   SendFrames.javaFields(topic: "B10", queueId: 1, sysFlag: SysFlag.compressed, batch: true),
                                   body: SendFrames.buffer(body))
        #expect(bad.code == ResponseCode.messageIllegal)
        #expect(f.broker.store.maxPhysicalOffset == before)
        await f.stop()
    }

    @Test func singleCompressedMessageIsStoredAsSent() async throws {
        let f = try await BrokerFixture.start()
        let compressed = try SendFrames.zlib([UInt8](repeating: 0x42, count: 5000))
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "Z", queueId: 0, sysFlag: SysFlag.compressed),
                                 body: SendFrames.buffer(compressed))
        #expect(r.code == ResponseCode.success)
        let stored = try SendFrames.stored(f.broker.store, "Z", 0)
        try #require(stored.count == 1)
        #expect(stored[0].body == compressed)
        #expect(stored[0].sysFlag == SysFlag.compressed)
        await f.stop()
    }

    @Test func autoCreateOffAnswersTopicNotExist() async throws {
        let f = try await BrokerFixture.start { $0.autoCreateTopicEnable = false }
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "Unknown"), body: SendFrames.buffer("x"))
        #expect(r.code == ResponseCode.topicNotExist)
        #expect(f.broker.context.topics.config("Unknown") == nil)
        // Retry topics are still created on demand, with one queue.
        let retry = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "%RETRY%CG", queueId: 0), body: SendFrames.buffer("x"))
        #expect(retry.code == ResponseCode.success, "\(retry.remark ?? "")")
        #expect(f.broker.context.topics.config("%RETRY%CG")?.writeQueueNums == 1)
        await f.stop()
    }

    @Test func badAndReservedTopicNamesAreRefused() async throws {
        let f = try await BrokerFixture.start()
        for name in ["", "a b", "t*", String(repeating: "x", count: 128)] {
            let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: name), body: SendFrames.buffer("x"))
            #expect(r.code == ResponseCode.systemError, "\(name)")
            #expect(r.remark?.contains("topic") == true)
        }
        for name in ["SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "SELF_TEST_TOPIC"] {
            let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: name), body: SendFrames.buffer("x"))
            #expect(r.code == ResponseCode.noPermission, "\(name)")
        }
        #expect(f.broker.store.maxPhysicalOffset == 0)
        await f.stop()
    }

    @Test func oversizeBodyAndPropertiesAreIllegal() async throws {
        let f = try await BrokerFixture.start { $0.maxMessageSize = 1024 }
        let ok = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "Big"), body: SendFrames.buffer([UInt8](repeating: 1, count: 1024)))
        #expect(ok.code == ResponseCode.success)
        let before = f.broker.store.maxPhysicalOffset
        let big = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "Big"), body: SendFrames.buffer([UInt8](repeating: 1, count: 1025)))
        #expect(big.code == ResponseCode.messageIllegal)
        #expect(big.remark?.contains("1025") == true)
        let longProps = SendFrames.properties([("K", String(repeating: "v", count: 32_800))])
        let props = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "Big", properties: longProps), body: SendFrames.buffer("x"))
        #expect(props.code == ResponseCode.messageIllegal)
        #expect(f.broker.store.maxPhysicalOffset == before)
        #expect(try SendFrames.stored(f.broker.store, "Big", 0).count == 1)
        await f.stop()
    }

    @Test func queueIdOutOfRangeAndMissingFields() async throws {
        let f = try await BrokerFixture.start()
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "Q", queueId: 4), body: SendFrames.buffer("x"))
        #expect(r.code == ResponseCode.systemError)
        #expect(r.remark?.contains("queueId[4]") == true)
        var fields = SendFrames.javaFields(topic: "Q")
        fields["queueId"] = nil
        let missing = try await f.call(RequestCode.sendMessage, fields, body: SendFrames.buffer("x"))
        #expect(missing.code == ResponseCode.systemError)
        #expect(missing.remark?.contains("queueId") == true)
        await f.stop()
    }

    @Test func topicWithoutWritePermissionIsRefused() async throws {
        let f = try await BrokerFixture.start()
        try f.broker.context.topics.update(TopicConfig(topicName: "RO", readQueueNums: 2, writeQueueNums: 2, perm: Perm.read))
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "RO"), body: SendFrames.buffer("x"))
        #expect(r.code == ResponseCode.noPermission)
        await f.stop()
    }

    @Test func syncFlushAnswersAfterDurability() async throws {
        let f = try await BrokerFixture.start { $0.flushDiskType = .syncFlush }
        for i in 0 ..< 5 {
            let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "S", properties: SendFrames.properties([("WAIT", "true")])),
                                     body: SendFrames.buffer("sync \(i)"))
            #expect(r.code == ResponseCode.success)
            let phys = try #require(SendFrames.physicalOffsets(msgId: r.extFields["msgId"]).first)
            let size = try #require(f.broker.store.message(at: phys)?.size)
            #expect(f.broker.store.flushedOffset >= phys + Int64(size))
        }
        await f.stop()
    }

    @Test func onewaySendIsStoredWithoutAnswer() async throws {
        let f = try await BrokerFixture.start()
        let raw = try await RawConnection.connect(f)
        var oneway = RemotingCommand(code: RequestCode.sendMessage, language: .cpp, version: 64, opaque: 100, flag: .oneway,
                                     extFields: SendFrames.javaFields(topic: "OW"), body: SendFrames.buffer("quiet"))
        raw.write(oneway)
        oneway.opaque = 101
        oneway.flag = []
        oneway.body = SendFrames.buffer("loud")
        raw.write(oneway)
        let first = try await raw.next()
        #expect(first.opaque == 101)
        #expect(first.code == ResponseCode.success)
        try await Task.sleep(for: .milliseconds(100))
        #expect(raw.received.isEmpty)
        let stored = try SendFrames.stored(f.broker.store, "OW", 0)
        #expect(stored.map(\.body) == [Array("quiet".utf8), Array("loud".utf8)])
        raw.close()
        await f.stop()
    }
}

/// A client connection that shows every frame the broker writes (RemotingConnection drops unmatched ones).
final class RawConnection: Sendable {
    let channel: any Channel
    private let frames: FrameCollector

    var received: [RemotingCommand] { frames.frames.withLock { $0 } }

    private init(channel: any Channel, frames: FrameCollector) { self.channel = channel; self.frames = frames }

    static func connect(_ f: BrokerFixture) async throws -> RawConnection {
        let collector = FrameCollector()
        let channel = try await ClientBootstrap(group: f.group).channelInitializer { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandlers([
                    ByteToMessageHandler(RemotingFrameDecoder()), MessageToByteHandler(RemotingFrameEncoder()), collector,
                ])
            }
        }.connect(host: "127.0.0.1", port: f.broker.port).get()
        return RawConnection(channel: channel, frames: collector)
    }

    func write(_ command: RemotingCommand) { channel.writeAndFlush(command, promise: nil) }

    /// Removes and returns the first received frame, waiting up to 5 s.
    func next() async throws -> RemotingCommand {
        for _ in 0 ..< 500 {
            if let c = frames.frames.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return c }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TransportError.timeout(code: 0, address: "raw")
    }

    func close() { channel.close(promise: nil) }
}

private final class FrameCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = RemotingCommand
    let frames = Mutex<[RemotingCommand]>([])
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let c = unwrapInboundIn(data)
        frames.withLock { $0.append(c) }
    }
}
