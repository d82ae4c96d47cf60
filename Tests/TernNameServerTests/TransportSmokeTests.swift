import Logging
import NIOCore
import NIOPosix
import TernRemoting
import TernTransport
import Testing

/// Echo handler: answers every request with its own code in the remark.
private struct EchoHandler: RemotingRequestHandler {
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        responder.respond(code: 0, remark: "echo \(request.code)", extFields: request.extFields)
    }
}

@Suite struct TransportSmokeTests {
    @Test func requestResponseAndOneway() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: EchoHandler(),
                                                    logger: .init(label: "test"))
        let c = try await RemotingClient.connect(to: "127.0.0.1:\(server.port)", group: group)
        let r = try await c.request(RemotingCommand(code: 105, extFields: ["topic": "T"]), timeout: .seconds(3))
        #expect(r.remark == "echo 105")
        #expect(r.extFields["topic"] == "T")
        // A one-way request gets no answer; the next request still correlates.
        c.sendOneway(RemotingCommand(code: 15))
        let r2 = try await c.request(RemotingCommand(code: 11), timeout: .seconds(3))
        #expect(r2.remark == "echo 11")
        c.close()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
