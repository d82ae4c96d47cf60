import NIOCore
import NIOPosix
import TernBroker
import TernRemoting
import TernTestSupport
import Testing

/// Collects whatever the server writes back and whether it closed the connection.
private final class RawPeer: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let closed: EventLoopPromise<Void>
    init(closed: EventLoopPromise<Void>) { self.closed = closed }
    func channelInactive(context: ChannelHandlerContext) { closed.succeed(()) }
}

/// Bytes that are not valid remoting frames reach a live broker over TCP: the broker closes that
/// connection (or waits for more bytes), stays up, and keeps serving another client.
@Suite struct BrokerHostileInputTests {
    /// Opens a raw TCP connection, writes `bytes`, and returns whether the server closed it within `wait`.
    private func send(_ bytes: [UInt8], to f: BrokerFixture, wait: TimeAmount = .seconds(2)) async throws -> Bool {
        let loop = f.group.next()
        let closed = loop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(RawPeer(closed: closed)) } }
            .connect(host: "127.0.0.1", port: f.broker.port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        let timeout = loop.scheduleTask(in: wait) { closed.fail(ChannelError.ioOnClosedChannel) }
        defer { timeout.cancel(); channel.close(promise: nil) }
        do { try await closed.futureResult.get(); return true } catch { return false }
    }

    private func frame(headerMark: UInt32, header: [UInt8], declaredLength: UInt32? = nil) -> [UInt8] {
        var b = ByteBuffer()
        b.writeInteger(declaredLength ?? UInt32(4 + header.count))
        b.writeInteger(headerMark)
        b.writeBytes(header)
        return Array(b.readableBytesView)
    }

    private func expectServing(_ f: BrokerFixture) async throws {
        let r = try await f.call(9999)
        #expect(r.code == ResponseCode.requestCodeNotSupported)
    }

    @Test func malformedFramesCloseOnlyTheirConnection() async throws {
        let f = try await BrokerFixture.start()
        // Oversize length prefix: refused as soon as the 4 bytes arrive.
        #expect(try await send([0x7F, 0xFF, 0xFF, 0xFF], to: f))
        // Length below the header mark.
        #expect(try await send([0, 0, 0, 2, 0, 0], to: f))
        // Header length larger than the frame.
        #expect(try await send(frame(headerMark: 1000, header: Array("{}".utf8)), to: f))
        // Bad JSON header.
        #expect(try await send(frame(headerMark: 5, header: Array("{code".utf8)), to: f))
        // Unknown serialize type.
        #expect(try await send(frame(headerMark: 0x0700_0002, header: Array("{}".utf8)), to: f))
        try await expectServing(f)
        await f.stop()
    }

    @Test func truncatedFrameWaitsAndDoesNotDisturbOthers() async throws {
        let f = try await BrokerFixture.start()
        // Declares 100 bytes, sends 10: the broker waits for the rest (no answer, no crash).
        let partial = Array(frame(headerMark: 2, header: Array("{}".utf8), declaredLength: 100))
        #expect(try await send(partial, to: f, wait: .milliseconds(300)) == false)
        try await expectServing(f)
        await f.stop()
    }

    @Test func seededRandomBytesNeverTakeTheBrokerDown() async throws {
        let f = try await BrokerFixture.start()
        var rng = SplitMix64(seed: 0x7E51)
        for _ in 0..<40 {
            let n = Int.random(in: 1...300, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the cases carry a plausible length prefix so the header parser sees the junk.
            if Bool.random(using: &rng), n >= 8 {
                let len = UInt32(n - 4)
                bytes[0] = UInt8(len >> 24); bytes[1] = UInt8((len >> 16) & 0xFF); bytes[2] = UInt8((len >> 8) & 0xFF); bytes[3] = UInt8(len & 0xFF)
                bytes[4] = 0
            }
            _ = try await send(bytes, to: f, wait: .milliseconds(50))
        }
        try await expectServing(f)
        await f.stop()
    }
}
