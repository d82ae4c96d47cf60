import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TernStorage
import TernTransport

/// Slave side of replication (RocketMQ's `HAService.HAClient`): connects to the master's HA address, reports
/// `store.replicationOffset` on connect, after each read burst of chunks and every `heartbeatInterval`, and
/// writes each chunk at its offset with `store.appendReplicated` (which validates every record, CRC included,
/// before publishing it; a cut record is held until the next chunk completes it). The link runs on its
/// channel's event loop (``HASlaveLink``).
///
/// A chunk that does not start at the slave's end (unless the slave holds nothing, as in RocketMQ), an invalid
/// record, a hostile frame, `housekeepingInterval` of silence or a lost connection closes the link; the client
/// reconnects after `reconnectPause` and reports where it stands, so the master resends from there. The
/// master's address is asked for on each attempt (it changes with registration answers or an election); a
/// live link to a master the address no longer names is closed by ``masterAddressChanged()``.
public final class HAClient: Service, Sendable {
    public typealias Address = (host: String, port: Int)
    private let store: MessageStore
    private let config: HAConfig
    private let group: any EventLoopGroup
    private let masterAddress: @Sendable () -> String?
    private let logger: Logger
    private let linkState = Mutex<(address: String?, links: Int)>((nil, 0))
    /// The pause under way between links: cancelled when a master address is learned.
    private let pauseTask = Mutex<Task<Void, Never>?>(nil)
    /// The link under way (its task) and the address it was opened to.
    private let currentLink = Mutex<(address: String, task: Task<Void, Never>)?>(nil)

    /// Whether a link to the master is up now.
    public var isConnected: Bool { linkState.withLock { $0.address != nil } }
    /// The local address of the link up now, as the master lists it in its in-sync set (`InSyncSet.Replica.peer`).
    public var linkAddress: String? { linkState.withLock { $0.address } }
    /// Links opened so far (tests count reconnects).
    public var linksOpened: Int { linkState.withLock { $0.links } }

    /// `masterAddress` returns "host:port" of the master's HA server, or nil while unknown.
    public init(store: MessageStore, config: HAConfig, group: any EventLoopGroup, logger: Logger,
                masterAddress: @escaping @Sendable () -> String?) {
        self.store = store
        self.config = config
        self.group = group
        self.masterAddress = masterAddress
        self.logger = logger
    }

    /// The master's address may have changed: an idle client tries it now instead of after its pause, and a
    /// live link to another address (a planned switch, a new election) is closed. Returns once that link has
    /// ended: nothing it received is applied after this returns.
    public func masterAddressChanged() async {
        pauseTask.withLock { $0 }?.cancel()
        let wanted = masterAddress()
        guard let stale = currentLink.withLock({ $0 }), stale.address != wanted else { return }
        logger.info("master address changed; closing the link", metadata: [
            "ha.master": "\(stale.address)", "ha.next": "\(wanted ?? "none")",
        ])
        stale.task.cancel()
        await stale.task.value
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let address = self.masterAddress(), let (host, port) = Self.split(address) {
                    // A task of its own, so that a change of master can end this link alone.
                    let link = Task { await self.follow(host: host, port: port) }
                    self.currentLink.withLock { $0 = (address, link) }
                    // A change between reading the address and publishing the link is seen here or there.
                    if self.masterAddress() != address { link.cancel() }
                    await withTaskCancellationHandler { await link.value } onCancel: { link.cancel() }
                    self.currentLink.withLock { if $0?.task == link { $0 = nil } }
                }
                await self.pause()
            }
        }
    }

    /// `reconnectPause`, or less when ``masterAddressChanged()`` is called meanwhile (a change just before the
    /// pause starts waits it out: the next attempt reads the address anyway).
    private func pause() async {
        let sleeping = Task { _ = try? await Task.sleep(for: self.config.reconnectPause) }
        pauseTask.withLock { $0 = sleeping }
        await withTaskCancellationHandler { await sleeping.value } onCancel: { sleeping.cancel() }
        pauseTask.withLock { $0 = nil }
    }

    static func split(_ address: String) -> Address? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              port > 0, port < 65_536 else { return nil }
        return (String(address[..<colon]), port)
    }

    /// One link: connect, then the link's handler reports and applies chunks until the link ends (always logged).
    private func follow(host: String, port: Int) async {
        var logger = logger
        logger[metadataKey: "ha.master"] = "\(host):\(port)"
        do {
            let (link, handshake, finished) = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(3))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        var handshake: EventLoopFuture<Void>?
                        if let tls = self.config.tlsClient {
                            let promise = channel.eventLoop.makePromise(of: Void.self)
                            try tls.addHandlers(to: channel, handshake: promise, logger: self.logger)
                            handshake = promise.futureResult
                        }
                        let finished = channel.eventLoop.makePromise(of: Void.self)
                        let decoder = HATransferDecoder(bodySizeMax: self.config.transferBatchSize)
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(decoder), HASlaveLink(store: self.store, config: self.config, finished: finished))
                        return (channel as any Channel, handshake, finished.futureResult)
                    }
                }
            try await withTaskCancellationHandler {
                if let handshake {
                    do { try await handshake.get() } catch {
                        link.close(promise: nil)
                        throw error
                    }
                }
                let local = link.localAddress?.description ?? "?"
                linkState.withLock { $0 = (local, $0.links + 1) }
                defer { linkState.withLock { $0.address = nil } }
                logger.info("connected to master", metadata: ["offset": "\(store.replicationOffset)"])
                try await finished.get()
            } onCancel: {
                link.close(promise: nil)
            }
        } catch {
            logger.info("link to master closed", metadata: ["reason": "\(error)"])
        }
    }
}
