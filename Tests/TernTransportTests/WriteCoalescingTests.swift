import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TernRemoting
import TernTransport
import Testing

/// Answers inline on the event loop: every third request with a body (written on its own, after the frames
/// coalesced before it), the rest without (coalesced into the burst's buffer).
private final class InlineHandler: RemotingRequestHandler {
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        var fields = RemotingExtFields()
        fields.set("n", request.opaque)
        let body = request.opaque % 3 == 0 ? ByteBuffer(string: "body \(request.opaque)") : nil
        responder.respond(code: 0, extFields: fields, body: body)
    }
}

@Suite struct WriteCoalescingTests {
    /// Responses answered during one read burst are written as one buffer at its end: every frame arrives
    /// whole and in request order, including frames with bodies written between coalesced ones.
    @Test func pipelinedAnswersArriveWholeAndInOrder() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: InlineHandler(),
                                                    logger: Logger(label: "test"))
        let (client, collector) = try await RawFrameClient.connect(to: server.port, group: group)
        let total = 3_000
        try await client.writeAndFlush(try RawFrameClient.pipelinedSends(total))
        #expect(await eventually(20) { collector.received.withLockedValue { $0.count } >= total })
        let received = collector.received.withLockedValue { $0 }
        #expect(received.map(\.opaque) == Array(1...Int32(total)))
        #expect(received.allSatisfy { $0.isResponse && $0.extFields.int32("n") == $0.opaque })
        #expect(received.allSatisfy { r in
            r.opaque % 3 == 0 ? r.body.map { String(buffer: $0) } == "body \(r.opaque)" : r.body == nil
        })
        try await client.close()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
