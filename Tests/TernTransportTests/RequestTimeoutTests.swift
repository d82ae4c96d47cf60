import Logging
import NIOCore
import NIOPosix
import TernRemoting
import TernTransport
import Testing

/// Answers code 2 at once and never answers code 1.
private final class SilentForOne: RemotingRequestHandler {
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        if request.code == 2 { responder.respond(code: 0, extFields: [:]) }
    }
}

/// Request timeouts share one timer per connection (PendingRequests): each request still fails at its own
/// deadline, never before it, and answered requests leave nothing behind.
@Suite struct RequestTimeoutTests {
    private static func connected() async throws -> (MultiThreadedEventLoopGroup, RemotingServer, RemotingConnection) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: SilentForOne(),
                                                    logger: Logger(label: "test"))
        let connection = try await RemotingClient.connect(to: "127.0.0.1:\(server.port)", group: group).get()
        return (group, server, connection)
    }

    private static func isTimeout(_ future: EventLoopFuture<RemotingCommand>) async -> Bool {
        do { _ = try await future.get(); return false } catch let e as TransportError {
            if case .timeout(code: 1, _) = e { return true }
            return false
        } catch { return false }
    }

    /// A short timeout sent after a long one fails at its own deadline: the sweep armed for the long one is
    /// replaced by an earlier one.
    @Test func shortTimeoutBehindALongOneFailsAtItsOwnDeadline() async throws {
        let (group, server, c) = try await Self.connected()
        let long: EventLoopFuture<RemotingCommand> = c.request(RemotingCommand(code: 1), timeout: .seconds(60))
        let start = NIODeadline.now()
        let short: EventLoopFuture<RemotingCommand> = c.request(RemotingCommand(code: 1), timeout: .milliseconds(300))
        #expect(await Self.isTimeout(short))
        let waited = NIODeadline.now() - start
        #expect(waited >= .milliseconds(300), "failed before its deadline")
        #expect(waited < .seconds(30), "waited for the long request's timer")
        #expect(c.pendingCount == 1)
        c.close()
        await #expect(throws: TransportError.self) { try await long.get() }
        await server.stop()
        try await group.shutdownGracefully()
    }

    /// Thousands of answered requests, then thousands left unanswered: every answer arrives, every silent
    /// request times out, and nothing stays pending.
    @Test func manyInFlightAnsweredOrTimedOut() async throws {
        let (group, server, c) = try await Self.connected()
        let answered = (0 ..< 5_000).map { _ -> EventLoopFuture<RemotingCommand> in c.request(RemotingCommand(code: 2), timeout: .seconds(30)) }
        for f in answered { #expect(try await f.get().code == 0) }
        #expect(c.pendingCount == 0)
        let silent = (0 ..< 5_000).map { _ -> EventLoopFuture<RemotingCommand> in c.request(RemotingCommand(code: 1), timeout: .milliseconds(200)) }
        var timedOut = 0
        for f in silent where await Self.isTimeout(f) { timedOut += 1 }
        #expect(timedOut == silent.count)
        #expect(c.pendingCount == 0)
        c.close()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
