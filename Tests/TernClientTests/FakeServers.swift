import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport

/// A shareable lock-protected value (Mutex itself is non-copyable, so closures and handlers share this box).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { withLock { $0 } }
}

/// A remoting server whose answers come from a closure; keeps every request it received.
/// `answer` returns nil to leave a request unanswered (timeout tests).
final class FakeServer: Sendable {
    typealias Answer = @Sendable (RemotingCommand) -> RemotingCommand?

    private struct Handler: RemotingRequestHandler {
        let answer: Answer
        let owner: @Sendable (RemotingCommand) -> Void
        func handle(_ request: RemotingCommand, responder: RemotingResponder) {
            owner(request)
            if let response = answer(request) { responder.respond(response) }
        }
    }

    private let server: Locked<RemotingServer?>
    private let log = Locked<[RemotingCommand]>([])
    let port: Int
    var address: String { "127.0.0.1:\(port)" }

    private init(server: RemotingServer) {
        self.server = Locked(server)
        self.port = server.port
    }

    static func start(group: any EventLoopGroup, answer: @escaping Answer) async throws -> FakeServer {
        let box = Locked<FakeServer?>(nil)
        let handler = Handler(answer: answer, owner: { request in
            box.withLock { $0 }?.log.withLock { $0.append(request) }
        })
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: handler,
                                                    logger: Logger(label: "fake"))
        let fake = FakeServer(server: server)
        box.withLock { $0 = fake }
        return fake
    }

    var requests: [RemotingCommand] { log.withLock { $0 } }
    func requests(code: Int) -> [RemotingCommand] { requests.filter { $0.code == code } }

    func stop() async {
        let s = server.withLock { s -> RemotingServer? in defer { s = nil }; return s }
        await s?.stop()
    }
}

/// Canned answers.
enum Canned {
    static func response(_ code: Int = ResponseCode.success, _ fields: RemotingExtFields = [:], body: ByteBuffer? = nil,
                         remark: String? = nil) -> RemotingCommand {
        RemotingCommand(code: code, flag: .response, remark: remark, extFields: fields, body: body)
    }

    static func response(_ fields: RemotingExtFields, body: ByteBuffer? = nil, remark: String? = nil) -> RemotingCommand {
        response(ResponseCode.success, fields, body: body, remark: remark)
    }

    /// A name server knowing `topic` on broker-a (master at `brokerAddress`) with `queues` RW queues, plus a
    /// broker-b route entry without a master (its queues must never be chosen for sending).
    static func nameServer(topic: String, brokerAddress: String, queues: Int = 2) -> FakeServer.Answer {
        { request in
            switch request.code {
            case RequestCode.getRouteInfoByTopic:
                guard request.extFields["topic"] == topic else { return response(ResponseCode.topicNotExist) }
                let route = TopicRouteData(
                    queueDatas: [QueueData(brokerName: "broker-b", readQueueNums: 1, writeQueueNums: 1, perm: 6),
                                 QueueData(brokerName: "broker-a", readQueueNums: queues, writeQueueNums: queues, perm: 6)],
                    brokerDatas: [BrokerData(cluster: "C", brokerName: "broker-a", brokerAddrs: ["0": brokerAddress]),
                                  BrokerData(cluster: "C", brokerName: "broker-b", brokerAddrs: ["1": "127.0.0.1:1"])])
                return response(body: JSONBody.encode(route))
            case RequestCode.getBrokerClusterInfo:
                let info = ClusterInfo(
                    brokerAddrTable: ["broker-a": BrokerData(cluster: "C", brokerName: "broker-a", brokerAddrs: ["0": brokerAddress])],
                    clusterAddrTable: ["C": ["broker-a"]])
                return response(body: JSONBody.encode(info))
            case RequestCode.getAllTopicListFromNameServer:
                return response(body: JSONBody.encode(TopicList(topicList: [topic, "A-first"])))
            default:
                return response(216 == request.code ? ResponseCode.success : ResponseCode.requestCodeNotSupported)
            }
        }
    }

    /// Send responses numbering offsets per queue, with offset ids on `storeHost`.
    static func sendAnswer(storeHost: String) -> @Sendable (RemotingCommand) -> RemotingCommand {
        let counter = Locked(Int64(0))
        return { request in
            let queueId = request.extFields["e"] ?? request.extFields["queueId"] ?? "0"
            let n = counter.withLock { c -> Int64 in c += 1; return c }
            let id = MessageId.offsetId(storeHost: HostAddress(storeHost)!, physicalOffset: 1000 * n)
            return response(["msgId": id, "queueId": queueId, "queueOffset": String(n - 1)])
        }
    }

    /// A stored record as a broker would return it.
    static func record(topic: String = "T", queueId: Int32 = 1, queueOffset: Int64, physicalOffset: Int64,
                       body: [UInt8], properties: [(String, String)], sysFlag: Int32 = 0,
                       storeHost: String = "127.0.0.1:10911") -> [UInt8] {
        MessageDraft(topic: Array(topic.utf8), queueId: queueId, flag: 7, sysFlag: sysFlag, bornTimestamp: 1_700_000_000_123,
                     bornHost: HostAddress("10.0.0.9:5555")!, storeHost: HostAddress(storeHost)!, reconsumeTimes: 2,
                     body: body, properties: MessageProperties.encode(properties))
            .encoded(queueOffset: queueOffset, physicalOffset: physicalOffset, storeTimestamp: 1_700_000_000_456)
    }
}

/// A raw TCP server that keeps the exact bytes of each frame it receives and answers via `answer`
/// (used to check what goes on the wire, e.g. that numbers are written as JSON strings).
final class WireCaptureServer: Sendable {
    private final class Capture: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: `pending` is only touched from the channel's event loop (NIO handler confinement).
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let frames: Locked<[[UInt8]]>
        let answer: @Sendable (RemotingCommand) -> RemotingCommand
        var pending = ByteBuffer()
        init(frames: Locked<[[UInt8]]>, answer: @escaping @Sendable (RemotingCommand) -> RemotingCommand) {
            self.frames = frames
            self.answer = answer
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            pending.writeBuffer(&incoming)
            while true {
                let before = pending  // get* refuses indices behind the reader index, so keep the unread view
                guard let command = try? RemotingFrame.read(from: &pending, frameSizeMax: 1 << 24) else { return }
                let raw = before.getBytes(at: before.readerIndex, length: pending.readerIndex - before.readerIndex) ?? []
                frames.withLock { $0.append(raw) }
                var response = answer(command)
                response.opaque = command.opaque
                response.serializeType = command.serializeType
                var out = context.channel.allocator.buffer(capacity: 256)
                try? RemotingFrame.write(response, into: &out)
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }

    private let channel: any Channel
    private let captured: Locked<[[UInt8]]>
    let port: Int
    var address: String { "127.0.0.1:\(port)" }

    private init(channel: any Channel, captured: Locked<[[UInt8]]>) {
        self.channel = channel
        self.captured = captured
        self.port = channel.localAddress?.port ?? 0
    }

    static func start(group: any EventLoopGroup, answer: @escaping @Sendable (RemotingCommand) -> RemotingCommand) async throws -> WireCaptureServer {
        let frames = Locked<[[UInt8]]>([])
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Capture(frames: frames, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return WireCaptureServer(channel: channel, captured: frames)
    }

    /// The JSON header text of every captured frame.
    var headers: [String] {
        captured.withLock { frames in
            frames.map { f in
                let headerLength = Int(f[5]) << 16 | Int(f[6]) << 8 | Int(f[7])
                return String(decoding: f[8 ..< 8 + headerLength], as: UTF8.self)
            }
        }
    }

    func stop() async { try? await channel.close() }
}

extension ClientOptions {
    /// Options for tests: the default 3 s request and connect timeouts are too tight when `swift test` runs
    /// every suite in parallel on a loaded 2-core CI machine. Tests of the timeout path set their own.
    static func forTests(nameServer: String) -> ClientOptions {
        var o = ClientOptions(nameServer: nameServer)
        o.requestTimeout = .seconds(15)
        o.connectTimeout = .seconds(15)
        return o
    }
}
