import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TernRemoting

/// Collects the decoded responses of a raw frame client.
final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = RemotingCommand
    let received = NIOLockedValueBox<[RemotingCommand]>([])
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let command = unwrapInboundIn(data)
        received.withLockedValue { $0.append(command) }
    }
}

/// A client that writes pre-encoded frames in one write and collects every decoded answer: no request
/// bookkeeping of its own, so the server sees exactly the bytes the test wrote.
enum RawFrameClient {
    static func connect(to port: Int, group: any EventLoopGroup) async throws -> (channel: any Channel, collector: Collector) {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RemotingFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, collector)
    }

    /// `count` SEND_MESSAGE (105) frames with opaques 1...count, back to back in one buffer.
    static func pipelinedSends(_ count: Int) throws -> ByteBuffer {
        var requests = ByteBuffer()
        for i in 1...count {
            try RemotingFrame.write(RemotingCommand(code: 105, opaque: Int32(i), extFields: ["topic": "T"]), into: &requests)
        }
        return requests
    }
}
