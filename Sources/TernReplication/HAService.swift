import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TernStorage
import TernTransport

/// Master side of replication: accepts slaves on `haListenPort` and streams the commit log to each
/// (RocketMQ's `HAConnection`). Each link runs on its channel's event loop (``HAMasterLink``: first offset,
/// chunking, heartbeats, housekeeping). Every report is an acknowledgement recorded in ``acks`` (SYNC_MASTER
/// waits on it).
///
/// Lifecycle: ``bind(store:config:group:logger:)`` listens; ``run()`` accepts until cancelled or a graceful
/// shutdown, then closes every link.
public final class HAService: Service, Sendable {
    /// Each slave's acknowledged offset, the in-sync set, SYNC_MASTER's waiters.
    public let acks: ReplicationAcks
    private let server: NIOAsyncChannel<any Channel, Never>
    private let logger: Logger

    /// The port bound (differs from the config when it asked for port 0).
    public var port: Int { server.channel.localAddress?.port ?? 0 }

    /// Bytes queued on a link before it stops taking frames (high) and takes them again (low): several
    /// batches in flight, so a catching-up slave's socket never waits for the master to read the log.
    static let writeWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 512 * 1024, high: 2 * 1024 * 1024)

    private init(acks: ReplicationAcks, server: NIOAsyncChannel<any Channel, Never>, logger: Logger) {
        self.acks = acks
        self.server = server
        self.logger = logger
    }

    public static func bind(store: MessageStore, config: HAConfig, group: any EventLoopGroup,
                            logger: Logger) async throws -> HAService {
        let acks = ReplicationAcks(policy: config.ack)
        let ids = LinkIDs()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: writeWaterMark)
            .bind(host: config.listenHost, port: config.listenPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try config.tlsServer?.addHandlers(to: channel, logger: logger)
                    let link = HAMasterLink(store: store, config: config, acks: acks, id: ids.next(), logger: logger)
                    try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(HAReportDecoder()), link)
                    return channel as any Channel
                }
            }
        logger.info("HA server listening", metadata: ["ha.port": "\(server.channel.localAddress?.port ?? 0)"])
        return HAService(acks: acks, server: server, logger: logger)
    }

    /// Accepts slaves until cancelled or a graceful shutdown; then closes every link and returns normally
    /// (a `ServiceGroup` would take a thrown cancellation for a failure).
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await link in inbound {
                            group.addTask { await Self.serve(link) }
                        }
                    }
                }
            }
        } catch is CancellationError {
            logger.info("HA server stopped")
        }
    }

    /// Closes the listening socket of a service whose ``run()`` never ran (its broker failed to start).
    public func closeUnstarted() async throws {
        try await server.channel.close()
    }

    /// Holds a link until it closes (its handler ends it), or closes it when the server stops.
    private static func serve(_ link: any Channel) async {
        await withTaskCancellationHandler {
            try? await link.closeFuture.get()
        } onCancel: {
            link.close(promise: nil)
        }
    }
}

/// Link numbers, unique per server.
private final class LinkIDs: Sendable {
    private let last = Atomic<Int>(0)
    func next() -> Int { last.wrappingAdd(1, ordering: .relaxed).newValue }
}
