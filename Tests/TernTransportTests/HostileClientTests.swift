import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TernRemoting
import TernTransport
import Testing

/// Answers every request with a 1 KiB body and remembers the server side of each connection.
private final class KiloHandler: RemotingRequestHandler {
    let handled = NIOLockedValueBox(0)
    let connections = NIOLockedValueBox<[RemotingConnection]>([])
    private let body = ByteBuffer(repeating: 0x61, count: 1024)

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        handled.withLockedValue { $0 += 1 }
        responder.respond(code: 0, body: body)
    }

    func connectionOpened(_ connection: RemotingConnection) { connections.withLockedValue { $0.append(connection) } }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass (shared by this target's suites).
func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Resident set size of this process, from /proc/self/statm (pages × page size).
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

@Suite("Hostile and slow clients", .serialized)
struct HostileClientTests {
    /// A raw socket that never reads (autoRead off) and writes whatever it is given. Its small receive buffer
    /// keeps the kernel from absorbing megabytes of responses the test wants the server to hold back.
    private func rawClient(_ port: Int, group: any EventLoopGroup) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 64 << 10)
            .connect(host: "127.0.0.1", port: port).get()
    }

    private func frame(_ code: Int, opaque: Int32) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try RemotingFrame.write(RemotingCommand(code: code, opaque: opaque, extFields: ["topic": "T"]), into: &buffer)
        return buffer
    }

    private func withServer(
        _ limits: ConnectionLimits, _ body: (RemotingServer, KiloHandler, any EventLoopGroup) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let handler = KiloHandler()
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: handler,
                                                    limits: limits, logger: Logger(label: "test"))
        do { try await body(server, handler, group) } catch {
            await server.stop(); try await group.shutdownGracefully(); throw error
        }
        await server.stop()
        try await group.shutdownGracefully()
    }

    @Test func slowPartialFrameIsClosedAfterTheTimeout() async throws {
        try await withServer(ConnectionLimits(partialFrameTimeout: .milliseconds(300))) { server, _, group in
            let client = try await rawClient(server.port, group: group)
            let whole = try frame(105, opaque: 1)
            try await client.writeAndFlush(whole.getSlice(at: 0, length: whole.readableBytes - 1)!)
            #expect(await eventually(10) { !client.isActive }, "slowloris connection still open")
            #expect(await eventually(5) { server.partialFrameBytes == 0 })
        }
    }

    @Test func connectionsPastTheLimitAreRefused() async throws {
        try await withServer(ConnectionLimits(maxConnections: 2)) { server, _, group in
            let a = try await rawClient(server.port, group: group)
            let b = try await rawClient(server.port, group: group)
            #expect(await eventually(5) { server.openConnections == 2 })
            let c = try await rawClient(server.port, group: group)
            #expect(await eventually(5) { !c.isActive }, "third connection accepted")
            #expect(a.isActive && b.isActive && server.openConnections == 2)
            try await a.close()
            #expect(await eventually(5) { server.openConnections == 1 })
            let d = try await rawClient(server.port, group: group)
            #expect(await eventually(5) { server.openConnections == 2 })
            #expect(d.isActive)
            try await b.close(); try await d.close()
        }
    }

    @Test func partialFramesShareOneByteCap() async throws {
        try await withServer(ConnectionLimits(partialFrameBytesMax: 1 << 20)) { server, _, group in
            var prefix = ByteBuffer()
            prefix.writeInteger(UInt32(1 << 20 - 1))  // a frame that will never complete
            prefix.writeInteger(UInt32(10))  // JSON header of 10 bytes
            prefix.writeRepeatingByte(0x20, count: 600 << 10)
            let first = try await rawClient(server.port, group: group)
            try await first.writeAndFlush(prefix)
            #expect(await eventually(5) { server.partialFrameBytes == prefix.readableBytes })
            let second = try await rawClient(server.port, group: group)
            try await second.writeAndFlush(prefix)
            #expect(await eventually(5) { !second.isActive }, "second partial frame passed the cap")
            #expect(first.isActive)
            try await first.close()
            #expect(await eventually(5) { server.partialFrameBytes == 0 && server.openConnections == 0 })
        }
    }

    @Test func headerLengthPastTheFrameClosesAtOnce() async throws {
        try await withServer(ConnectionLimits()) { server, _, group in
            var bytes = ByteBuffer()
            bytes.writeInteger(UInt32(1000))  // frame of 1000 bytes whose header claims 5000
            bytes.writeInteger(UInt32(5000))
            let client = try await rawClient(server.port, group: group)
            try await client.writeAndFlush(bytes)
            #expect(await eventually(5) { !client.isActive }, "connection waits for bytes that can never fit")
        }
    }

    /// 20,000 pipelined requests whose 1 KiB responses are never read: the server stops reading the connection
    /// once its outbound buffer passes the high watermark, so it neither handles them all nor buffers 20 MiB.
    /// Measured: ~3,700 handled (their responses fill the loopback socket buffers), RSS +2.5 MiB; without the
    /// pause all 20,000 are handled and RSS grows by ~40 MiB.
    @Test func unreadResponsesPauseReadingAndBoundMemory() async throws {
        let limits = ConnectionLimits(outboundHighWatermark: 256 << 10, outboundLowWatermark: 64 << 10)
        try await withServer(limits) { server, handler, group in
            let total = 20_000
            var requests = ByteBuffer()
            for i in 0..<total { try requests.writeImmutableBuffer(frame(105, opaque: Int32(i + 1))) }
            let rssBefore = residentBytes()
            let client = try await rawClient(server.port, group: group)
            client.writeAndFlush(requests, promise: nil)
            let paused = await eventually(20) {
                handler.connections.withLockedValue { $0.first?.readPauseReasons.contains(.unreadResponses) ?? false }
            }
            #expect(paused, "server never paused reading")
            // Handled requests stop growing while the pause holds.
            var last = -1
            _ = await eventually(10) {
                let now = handler.handled.withLockedValue { $0 }
                defer { last = now }
                return now == last
            }
            let handled = handler.handled.withLockedValue { $0 }
            let grown = residentBytes() - rssBefore
            print("unread responses: handled \(handled) of \(total) requests, RSS +\(grown >> 10) KiB while paused")
            #expect(handled < total / 2, "server kept answering a peer that reads nothing")
            #expect(grown < 16 << 20, "RSS grew by \(grown >> 20) MiB")
            try await client.close()
            #expect(await eventually(10) { server.openConnections == 0 })
            print("unread responses: RSS +\((residentBytes() - rssBefore) >> 10) KiB after the connection closed")
        }
    }
}
