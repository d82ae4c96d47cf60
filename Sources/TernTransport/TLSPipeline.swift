import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// First handler of a server connection on a TLS port (Java's `HandshakeHandler`): looks at the first byte the
/// client sends. 0x16 (a TLS handshake record) puts the TLS handler in its place; anything else is a plain
/// client, passed on as is in permissive mode and closed in enforcing mode. The handler then removes itself,
/// so the decision costs one byte comparison per connection.
final class TLSHandshakeDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// First byte of every TLS record carrying a handshake message (ClientHello included).
    static let handshakeRecordType: UInt8 = 0x16

    private let server: TLSServer
    private let logger: Logger
    private var decided = false

    init(server: TLSServer, logger: Logger) {
        self.server = server
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return context.fireChannelRead(data) }
        let bytes = unwrapInboundIn(data)
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        decided = true
        let peer = context.channel.remoteAddress?.description ?? "?"
        if first == Self.handshakeRecordType {
            do {
                let sync = context.pipeline.syncOperations
                // Each goes right after this handler, so the observer (added first) ends up after the TLS handler.
                try sync.addHandler(TLSHandshakeObserver(logger: logger, side: "server"), position: .after(self))
                try sync.addHandler(NIOSSLServerHandler(context: server.context), position: .after(self))
            } catch {
                logger.error("TLS setup failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                context.close(promise: nil)
                return
            }
        } else if server.mode == .enforcing {
            logger.warning("closing plain connection: tls.server.mode is enforcing", metadata: ["peer": "\(peer)"])
            context.close(promise: nil)
            return
        }
        // Passed on before leaving: a removed handler's context no longer forwards.
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Follows a TLS handler: logs a failed handshake with the peer and the reason (an unknown certificate, a
/// missing client certificate, a plain client sending garbage) and closes; completes `handshake` when one is
/// given (clients wait for the handshake before their first request).
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let logger: Logger
    private let side: String
    private let handshake: EventLoopPromise<Void>?
    private var completed = false

    init(logger: Logger, side: String, handshake: EventLoopPromise<Void>? = nil) {
        self.logger = logger
        self.side = side
        self.handshake = handshake
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, !completed {
            completed = true
            handshake?.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if completed, let tls = error as? NIOSSLError, case .uncleanShutdown = tls {
            // The peer hung up without close_notify (a process exiting): a normal end, not worth a warning.
            logger.debug("TLS peer closed without close_notify", metadata: ["peer": "\(context.channel.remoteAddress?.description ?? "?")"])
            return
        }
        guard !completed else { return context.fireErrorCaught(error) }
        completed = true
        logger.warning("TLS handshake failed", metadata: [
            "side": "\(side)", "peer": "\(context.channel.remoteAddress?.description ?? "?")", "error": "\(error)",
        ])
        handshake?.fail(TLSHandshakeError(reason: "\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endedEarly()
        context.fireChannelInactive()
    }

    /// Also reached when the connection never came up (no channelInactive then): `handshake` always completes.
    func handlerRemoved(context: ChannelHandlerContext) {
        endedEarly()
    }

    private func endedEarly() {
        guard !completed else { return }
        completed = true
        handshake?.fail(TLSHandshakeError(reason: "connection closed during the TLS handshake"))
    }
}

/// A TLS handshake that did not complete (seen by the connecting side).
public struct TLSHandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { "TLS handshake failed: \(reason)" }
}

extension TLSClient {
    /// Adds the client TLS handler and its observer at the front of a new connection's pipeline (any protocol
    /// over it: remoting, HA). `handshake` completes when the handshake did or fails with a ``TLSHandshakeError``.
    public func addHandlers(to channel: any Channel, handshake: EventLoopPromise<Void>, logger: Logger) throws {
        let sync = channel.pipeline.syncOperations
        // No SNI: peers are addressed by IP, and SNI must not carry an IP literal.
        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
        try sync.addHandler(TLSHandshakeObserver(logger: logger, side: "client", handshake: handshake))
    }
}

extension TLSServer {
    /// Adds the first-byte detector at the front of an accepted connection's pipeline (any protocol over it:
    /// remoting, HA, HTTP).
    public func addHandlers(to channel: any Channel, logger: Logger) throws {
        try channel.pipeline.syncOperations.addHandler(TLSHandshakeDetector(server: self, logger: logger))
    }
}
