import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TernStorage
import TernTransport

/// Master side of replication: accepts slaves on `haListenPort` and streams the commit log to each.
///
/// Per slave (RocketMQ's `HAConnection`): nothing is sent until the slave's first offset report; the first
/// transfer starts at that offset, or at the start of the master's newest segment when the slave reports 0
/// (it holds nothing). Chunks of at most `transferBatchSize` bytes follow as the log grows, woken by the
/// store's dispatch events (no polling); an idle link gets an empty frame every `heartbeatInterval`. A slave
/// claiming an offset beyond the master's end, or silent for `housekeepingInterval`, is dropped (logged).
/// Every report is an acknowledgement recorded in ``acks`` (SYNC_MASTER waits on it).
///
/// Lifecycle: ``bind(store:config:group:logger:)`` listens; ``run()`` accepts until cancelled or a graceful
/// shutdown, then closes every link.
public final class HAService: Service, Sendable {
    /// Each slave's acknowledged offset, the in-sync set, SYNC_MASTER's waiters.
    public let acks: ReplicationAcks
    private let store: MessageStore
    private let config: HAConfig
    private let server: NIOAsyncChannel<NIOAsyncChannel<Int64, ByteBuffer>, Never>
    private let logger: Logger
    private let nextLink = Atomic<Int>(0)

    /// The port bound (differs from the config when it asked for port 0).
    public var port: Int { server.channel.localAddress?.port ?? 0 }

    private init(store: MessageStore, config: HAConfig, server: NIOAsyncChannel<NIOAsyncChannel<Int64, ByteBuffer>, Never>,
                 logger: Logger) {
        self.store = store
        self.config = config
        self.acks = ReplicationAcks(policy: config.ack)
        self.server = server
        self.logger = logger
    }

    public static func bind(store: MessageStore, config: HAConfig, group: any EventLoopGroup,
                            logger: Logger) async throws -> HAService {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .bind(host: config.listenHost, port: config.listenPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try config.tlsServer?.addHandlers(to: channel, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HAReportDecoder()))
                    return try NIOAsyncChannel<Int64, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        logger.info("HA server listening", metadata: ["ha.port": "\(server.channel.localAddress?.port ?? 0)"])
        return HAService(store: store, config: config, server: server, logger: logger)
    }

    /// Accepts slaves until cancelled or a graceful shutdown; then closes every link and returns normally
    /// (a `ServiceGroup` would take a thrown cancellation for a failure).
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await link in inbound {
                            group.addTask { await self.serve(link) }
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

    private enum LinkEnd: Error, CustomStringConvertible {
        case slaveClosed
        case slaveAhead(reported: Int64, masterEnd: Int64)
        case silent(Duration)
        case offsetOutsideLog(Int64)

        var description: String {
            switch self {
            case .slaveClosed: "slave closed the link"
            case let .slaveAhead(r, e): "slave reports offset \(r) beyond the master's end \(e)"
            case let .silent(d): "no report for \(d)"
            case let .offsetOutsideLog(o): "offset \(o) is no longer (or not yet) in the master's log"
            }
        }
    }

    /// One slave link: a reader of reports, a ticker (heartbeat and housekeeping) and a writer of chunks,
    /// until any of them ends the link.
    private func serve(_ link: NIOAsyncChannel<Int64, ByteBuffer>) async {
        let id = nextLink.wrappingAdd(1, ordering: .relaxed).newValue
        let peer = link.channel.remoteAddress?.description ?? "?"
        var logger = logger
        logger[metadataKey: "ha.slave"] = "\(peer)"
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let subscription = store.subscribe(name: "ha.slave.\(id)") { _ in wake.yield() }
        let clock = LinkClock()
        acks.connected(link: id, peer: peer)
        logger.info("slave connected")
        defer {
            subscription.cancel()
            acks.disconnected(link: id)
        }
        do {
            try await link.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await offset in inbound {
                            let end = self.store.maxPhysicalOffset
                            guard offset <= end else { throw LinkEnd.slaveAhead(reported: offset, masterEnd: end) }
                            clock.heard(offset: offset)
                            self.acks.acknowledged(link: id, offset: offset, masterEnd: end)
                            wake.yield()
                        }
                        throw LinkEnd.slaveClosed
                    }
                    group.addTask {
                        // Half the heartbeat interval, so an idle link's heartbeat is never a whole tick late.
                        let tick = min(self.config.heartbeatInterval / 2, self.config.housekeepingInterval)
                        while true {
                            try await Task.sleep(for: tick)
                            let silence = clock.silence
                            if silence > self.config.housekeepingInterval { throw LinkEnd.silent(silence) }
                            self.acks.check(masterEnd: self.store.maxPhysicalOffset)
                            wake.yield()
                        }
                    }
                    group.addTask {
                        try await self.transfer(wakes: wakes, clock: clock, to: outbound)
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            logger.info("slave link closed", metadata: ["reason": "\(error)"])
        }
    }

    /// Streams the log from the slave's first report on, one chunk per loop, and a heartbeat when idle.
    private func transfer(wakes: AsyncStream<Void>, clock: LinkClock,
                          to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        var next: Int64?
        var lastWrite = ContinuousClock.now
        for await _ in wakes {
            guard let requested = clock.reported else { continue }
            if next == nil { next = requested == 0 ? newestSegmentBase() : requested }
            guard var position = next else { continue }
            while !Task.isCancelled {
                // One copy: mapped log bytes straight into the frame.
                var frame = ByteBuffer()
                let count = store.withLogBytes(from: position, maxCount: config.transferBatchSize) { bytes in
                    guard bytes.count > 0 else { return 0 }
                    frame.reserveCapacity(HAProtocol.transferHeaderSize + bytes.count)
                    HAProtocol.writeTransferHeader(offset: position, size: Int32(bytes.count), to: &frame)
                    frame.writeBytes(bytes)
                    return bytes.count
                }
                guard let count else { throw LinkEnd.offsetOutsideLog(position) }
                if count == 0 { break }
                try await outbound.write(frame)
                position += Int64(count)
                lastWrite = .now
            }
            next = position
            if lastWrite.duration(to: .now) >= config.heartbeatInterval {
                var frame = ByteBuffer()
                HAProtocol.writeTransferHeader(offset: position, size: 0, to: &frame)
                try await outbound.write(frame)
                lastWrite = .now
            }
        }
    }

    /// RocketMQ's rule for a slave that holds nothing: start at the master's newest segment.
    private func newestSegmentBase() -> Int64 {
        let end = store.maxPhysicalOffset
        return max(0, end - end % Int64(store.config.segmentSize))
    }
}
