import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TernProtocol
import TernRemoting

/// `tern-bench floor`: the cost floor of a send and of a pull. A bare NIO server with the broker's socket options
/// and frame codec (RemotingFrameDecoder in the pipeline, responses encoded straight into bytes as the broker's
/// are) that decodes every SEND_MESSAGE(_V2) frame and answers a canned SEND_OK, storing nothing, and answers
/// every PULL_MESSAGE with a canned FOUND of real records (FloorPull.swift). Broker CPU per message divided by
/// the floor's, in the same run, is how much the broker adds on top of bytes in, bytes out.
///
/// It also answers the few name-server and admin requests `tern-bench produce` and `consume` make (cluster info,
/// topic creation, routes pointing at itself, min offset 0, no committed offset), so the same clients run
/// against it with `--namesrv` set to it.
/// Prints one line containing `ready` once listening; runs until killed.
struct Floor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bare server answering sends with a canned SEND_OK (the floor tools/bench-broker compares to).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks one).") var port = 30921
    @Option(help: "Queues in the routes it answers.") var queues = 8
    @Option(help: "Records in a pull answer at most (fewer when the pull asks fewer).") var pullRecords = 32
    @Option(help: "Body bytes of each record a pull answers.") var recordSize = 1024
    @Option(help: "Topic written in the records a pull answers.") var recordTopic = "BenchDrain"

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let replies = FloorReplies(queues: queues)
        let pulls = FloorPulls(records: max(1, pullRecords), bodySize: recordSize, topic: recordTopic)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(RemotingFrameDecoder()))
                    try sync.addHandler(FloorHandler(replies: replies, pulls: pulls))
                }
            }
            .bind(host: host, port: port)
            .get()
        replies.setAddress("\(host):\(channel.localAddress?.port ?? port)")
        // Unbuffered: scripts wait for this line.
        FileHandle.standardOutput.write(Data("floor ready on \(host):\(channel.localAddress?.port ?? port)\n".utf8))
        try await channel.closeFuture.get()
    }
}

/// The answers, built once: the canned SEND_OK and the route / cluster bodies naming this server.
final class FloorReplies: Sendable {
    let sendOK: RemotingCommand
    private let queues: Int
    private let bodies = NIOLockedValueBox<(route: ByteBuffer, cluster: ByteBuffer)?>(nil)

    init(queues: Int) {
        self.queues = queues
        var fields = RemotingExtFields()
        fields["msgId"] = "7F00000100007A3F0000000000000000"
        fields["queueId"] = "0"
        fields["queueOffset"] = "0"
        fields["MSG_REGION"] = "DefaultRegion"
        fields["TRACE_ON"] = "true"
        sendOK = RemotingCommand(code: ResponseCode.success, flag: .response, extFields: fields)
    }

    func setAddress(_ address: String) {
        let broker = BrokerData(cluster: "FloorCluster", brokerName: "floor", brokerAddrs: ["0": address])
        let route = TopicRouteData(queueDatas: [QueueData(brokerName: "floor", readQueueNums: queues,
                                                          writeQueueNums: queues, perm: 6)],
                                   brokerDatas: [broker])
        let cluster = ClusterInfo(brokerAddrTable: ["floor": broker], clusterAddrTable: ["FloorCluster": ["floor"]])
        bodies.withLockedValue { $0 = (JSONBody.encode(route), JSONBody.encode(cluster)) }
    }

    /// The answer to anything but a send or a pull (set-up traffic only).
    func other(_ request: RemotingCommand) -> RemotingCommand {
        switch request.code {
        case RequestCode.queryConsumerOffset:
            return RemotingCommand(code: ResponseCode.queryNotFound, flag: .response, remark: "no offset")
        case RequestCode.getMinOffset:
            return RemotingCommand(code: ResponseCode.success, flag: .response, extFields: ["offset": "0"])
        default: break
        }
        let body: ByteBuffer? = bodies.withLockedValue { b in
            switch request.code {
            case RequestCode.getRouteInfoByTopic: b?.route
            case RequestCode.getBrokerClusterInfo: b?.cluster
            default: nil
            }
        }
        return RemotingCommand(code: ResponseCode.success, flag: .response, body: body)
    }
}

/// Answers on the event loop; responses of one read burst go out in one flush, as the broker's do.
final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = RemotingCommand
    typealias OutboundOut = ByteBuffer

    private let replies: FloorReplies
    private let pulls: FloorPulls
    init(replies: FloorReplies, pulls: FloorPulls) { (self.replies, self.pulls) = (replies, pulls) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        guard !request.isResponse, !request.isOneway else { return }
        var response: RemotingCommand
        switch request.code {
        case RequestCode.sendMessageV2, RequestCode.sendMessage:
            // The header is decoded (as the broker's is) and its topic read, so a malformed send is noticed.
            response = request.extFields[request.code == RequestCode.sendMessageV2 ? "b" : "topic"] == nil
                ? RemotingCommand(code: ResponseCode.systemError, flag: .response, remark: "no topic")
                : replies.sendOK
        case RequestCode.pullMessage:
            response = pulls.answer(request)
        default:
            response = replies.other(request)
        }
        response.opaque = request.opaque
        response.serializeType = request.serializeType
        // Encoded here into bytes, as RemotingConnection does for the broker: a body (a pull's records) goes out
        // as its own buffer after the head, in the same gathering write.
        var frame = context.channel.allocator.buffer(capacity: 256)
        guard (try? RemotingFrame.writeHead(response, into: &frame)) != nil else { return context.close(promise: nil) }
        context.write(wrapOutboundOut(frame), promise: nil)
        if let body = response.body, body.readableBytes > 0 { context.write(wrapOutboundOut(body), promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
