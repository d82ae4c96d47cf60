import Logging
import NIOCore
import NIOPosix
import TernRemoting

/// A listening socket whose connections speak remoting and hand requests to one ``RemotingRequestHandler``.
///
/// A malformed or oversize frame closes only that connection; the others are unaffected. ``ConnectionLimits``
/// bounds what peers may hold: connections, partial frames (bytes and age) and unread responses.
public final class RemotingServer: Sendable {
    public let group: any EventLoopGroup
    private let channel: any Channel
    private let budget: ConnectionBudget
    private let handler: any RemotingRequestHandler
    private let frameSizeMax: Int
    private let logger: Logger
    /// The port actually bound (useful when asked for port 0).
    public let port: Int

    private init(group: any EventLoopGroup, channel: any Channel, budget: ConnectionBudget,
                 handler: any RemotingRequestHandler, frameSizeMax: Int, logger: Logger) {
        self.group = group
        self.channel = channel
        self.budget = budget
        self.handler = handler
        self.frameSizeMax = frameSizeMax
        self.logger = logger
        self.port = channel.localAddress?.port ?? 0
    }

    /// Binds `host:port` (port 0 picks a free one).
    public static func start(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        handler: any RemotingRequestHandler,
        frameSizeMax: Int = RemotingLimits.frameSizeMaxDefault,
        idleTimeout: TimeAmount? = .seconds(120),
        limits: ConnectionLimits = ConnectionLimits(),
        tls: TLSServer? = nil,
        logger: Logger
    ) async throws -> RemotingServer {
        let budget = ConnectionBudget(limits)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: limits.outboundLowWatermark,
                                                                     high: limits.outboundHighWatermark))
            .childChannelInitializer { channel in
                guard budget.admitConnection() else {
                    logger.warning("refusing connection: serverMaxConnections reached", metadata: [
                        "peer": "\(channel.remoteAddress?.description ?? "?")", "limit": "\(limits.maxConnections)",
                    ])
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in budget.releaseConnection() }
                return RemotingPipeline.configure(channel, handler: handler, budget: budget, frameSizeMax: frameSizeMax,
                                                  idleTimeout: idleTimeout, logger: logger,
                                                  tls: { try tls?.addHandlers(to: $0, logger: logger) })
            }
            .bind(host: host, port: port)
            .get()
        return RemotingServer(group: group, channel: channel, budget: budget, handler: handler,
                              frameSizeMax: frameSizeMax, logger: logger)
    }

    /// Connections open now (accepted and not yet closed).
    public var openConnections: Int { budget.openConnections }
    /// Bytes of incomplete frames buffered across all connections now.
    public var partialFrameBytes: Int { budget.partialFrameBytes }

    /// Puts this server's connection pipeline (its handler and frame limit; no TLS, connection limits or idle
    /// close) on `channel`, which the caller drives, e.g. an `EmbeddedChannel`: the send-path micro-benchmark
    /// measures decode → handler → encoded answer without sockets. Call on `channel`'s event loop.
    @_spi(Benchmarks) public func configureEmbedded(_ channel: any Channel) throws {
        try RemotingPipeline.addHandlers(channel, handler: handler, frameSizeMax: frameSizeMax, idleTimeout: nil,
                                         logger: logger)
    }

    /// Stops accepting. Existing connections stay open until closed by their peers or the event loops stop.
    public func stop() async {
        try? await channel.close()
    }
}

/// Client side: opens connections to `host:port` addresses.
public enum RemotingClient {
    /// Connects to `address` ("host:port"). `handler` receives requests the peer pushes (may be nil).
    /// With `tls`, the connection is handed out once the TLS handshake completed; a failed handshake fails it.
    public static func connect(
        to address: String,
        group: any EventLoopGroup,
        handler: (any RemotingRequestHandler)? = nil,
        connectTimeout: TimeAmount = .seconds(3),
        frameSizeMax: Int = RemotingLimits.frameSizeMaxDefault,
        tls: TLSClient? = nil,
        logger: Logger = Logger(label: "tern.client")
    ) -> EventLoopFuture<RemotingConnection> {
        let loop = group.next()
        guard let (host, port) = splitAddress(address) else {
            return loop.makeFailedFuture(TransportError.badAddress(address))
        }
        let box = loop.makePromise(of: RemotingConnection.self)
        // Completed by the TLS observer once the channel is up; failed here when it never comes up.
        let handshake = tls.map { _ in loop.makePromise(of: Void.self) }
        ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                RemotingPipeline.configure(channel, handler: handler, frameSizeMax: frameSizeMax,
                                           idleTimeout: nil, logger: logger,
                                           tls: { channel in
                                               if let tls, let handshake {
                                                   try tls.addHandlers(to: channel, handshake: handshake, timeout: connectTimeout, logger: logger)
                                               }
                                           },
                                           onActive: { box.succeed($0) })
            }
            .connect(host: host, port: port)
            .whenFailure { error in
                let failure = TransportError.connectFailed(address, reason: "\(error)")
                box.fail(failure)
                handshake?.fail(failure)
            }
        guard let handshake else { return box.futureResult }
        return box.futureResult.and(handshake.futureResult).flatMapError { error in
            box.futureResult.whenSuccess { $0.close() }
            if let error = error as? TransportError { return loop.makeFailedFuture(error) }
            return loop.makeFailedFuture(TransportError.connectFailed(address, reason: "\(error)"))
        }.map { $0.0 }
    }

    public static func connect(
        to address: String,
        group: any EventLoopGroup,
        handler: (any RemotingRequestHandler)? = nil,
        connectTimeout: TimeAmount = .seconds(3),
        tls: TLSClient? = nil
    ) async throws -> RemotingConnection {
        try await connect(to: address, group: group, handler: handler, connectTimeout: connectTimeout,
                          frameSizeMax: RemotingLimits.frameSizeMaxDefault, tls: tls, logger: Logger(label: "tern.client")).get()
    }

    /// "host:port" → (host, port); nil when malformed.
    public static func splitAddress(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"),
              let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        let host = String(address[..<colon])
        return host.isEmpty ? nil : (host, port)
    }
}
