import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TernRemoting
import TernTransport
import Testing

/// Counts the flushes that reach the socket.
private final class FlushCounter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = Any
    let flushes = NIOLockedValueBox(0)
    func flush(context: ChannelHandlerContext) {
        flushes.withLockedValue { $0 += 1 }
        context.flush()
    }
}

/// Holds every request until `expected` arrived, then answers them all from one later task on the loop, as a
/// replication acknowledgement releases a group of sends.
private final class HeldAnswers: RemotingRequestHandler {
    let expected: Int
    let counter = FlushCounter()
    let flushesWhileAnswering = NIOLockedValueBox<Int?>(nil)
    private let held = NIOLockedValueBox<[RemotingResponder]>([])

    init(expected: Int) { self.expected = expected }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let batch: [RemotingResponder]? = held.withLockedValue { h in
            if h.isEmpty { try? responder.connection.channel.pipeline.syncOperations.addHandler(counter, position: .first) }
            h.append(responder)
            return h.count == expected ? h : nil
        }
        guard let batch else { return }
        let loop = responder.connection.channel.eventLoop
        loop.execute {
            let before = self.counter.flushes.withLockedValue { $0 }
            for r in batch {
                r.connection.coalesceWritesUntilTaskEnds()
                var fields = RemotingExtFields()
                fields.set("n", r.opaque)
                r.respond(code: 0, extFields: fields)
            }
            // The queued flush runs after this task: read the count once it did.
            loop.execute { self.flushesWhileAnswering.withLockedValue { $0 = self.counter.flushes.withLockedValue { $0 } - before } }
        }
    }
}

@Suite struct TaskWriteCoalescingTests {
    /// Answers written from one task after `coalesceWritesUntilTaskEnds()` leave in one flush, whole and in order.
    @Test func answersOfOneTaskShareOneFlush() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let total = 50
        let handler = HeldAnswers(expected: total)
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: handler,
                                                    logger: Logger(label: "test"))
        let (client, collector) = try await RawFrameClient.connect(to: server.port, group: group)
        try await client.writeAndFlush(try RawFrameClient.pipelinedSends(total))
        #expect(await eventually(20) { collector.received.withLockedValue { $0.count } >= total })
        #expect(collector.received.withLockedValue { $0.map(\.opaque) } == Array(1...Int32(total)))
        #expect(await eventually(20) { handler.flushesWhileAnswering.withLockedValue { $0 } != nil })
        #expect(handler.flushesWhileAnswering.withLockedValue { $0 } == 1)
        try await client.close()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
