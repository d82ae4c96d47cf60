import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TernReplication
import TernStorage
import TernTransport

/// The broker's replication role (`brokerRole`): a master runs an `HAService` its slaves follow; a slave runs
/// an `HAClient` following its master's HA address (`haMasterAddress`, else the one the name server answers,
/// as RocketMQ's `BrokerController` does).
///
/// A SYNC_MASTER send that waits for the store is answered once a slave acknowledged its end
/// (``waitForSlave(_:)``); an ASYNC_MASTER never waits.
public final class BrokerReplication: Sendable {
    public let role: BrokerConfig.BrokerRole
    /// Masters: the HA server (its `acks` hold each slave's acknowledged offset).
    public let master: HAService?
    /// Slaves: the link to the master.
    public let slave: HAClient?
    /// This replica's epoch history (`<store root>/epochs`).
    public let epochs: EpochStore
    /// Requests to the master's broker port (epochs, metadata sync).
    public let masterClient: MasterClient
    private let identity: (cluster: String, name: String, id: Int64)
    /// Controller mode: the elected role (the master is whoever etcd says; see Failover/).
    public let leadership: Leadership?
    private let store: MessageStore
    private let config: HAConfig
    private let masterAddress: MasterAddress

    /// The master's HA address: configured, else learned from registration answers; its broker (remoting)
    /// address is learned from them too (`masterAddr`).
    final class MasterAddress: Sendable {
        let configured: String?
        let learned = Mutex<(ha: String?, broker: String?)>((nil, nil))
        init(configured: String?) { self.configured = configured }
        var current: String? { configured ?? learned.withLock { $0.ha } }
        var broker: String? { learned.withLock { $0.broker } }
    }

    init(config: BrokerConfig, store: MessageStore, master: HAService?, group: any EventLoopGroup, logger: Logger,
         tlsClient: TLSClient? = nil, leadership: Leadership? = nil) throws {
        self.role = config.brokerRole
        self.store = store
        var ha = Self.haConfig(config)
        ha.tlsClient = tlsClient
        self.config = ha
        self.master = master
        self.epochs = try EpochStore(directory: config.storePathRootDir)
        self.masterClient = MasterClient(group: group)
        self.identity = (config.brokerClusterName, config.brokerName, config.brokerId)
        self.leadership = leadership
        let address = MasterAddress(configured: config.haMasterAddress)
        self.masterAddress = address
        if let leadership {
            // Controller mode: every replica can follow; it does while the election names another master.
            slave = HAClient(store: store, config: self.config, group: group, logger: logger,
                             masterAddress: { leadership.followAddress })
        } else {
            slave = config.brokerRole == .slave
                ? HAClient(store: store, config: self.config, group: group, logger: logger, masterAddress: { address.current })
                : nil
        }
    }

    /// Binds the HA server of a master (`brokerIP2`'s interface is the broker's listen host).
    /// `tls`: the HA port's (`tls.server.*`) and the slave link's (`tls.enable`, `tls.client.*`).
    static func prepare(config: BrokerConfig, store: MessageStore, group: any EventLoopGroup, logger: Logger,
                        tls: (server: TLSServer?, client: TLSClient?) = (nil, nil),
                        leadership: Leadership? = nil) async throws -> BrokerReplication {
        var master: HAService?
        if config.brokerRole != .slave || leadership != nil {
            var ha = haConfig(config)
            ha.listenHost = config.listenHost
            ha.tlsServer = tls.server
            master = try await HAService.bind(store: store, config: ha, group: group, logger: logger)
        }
        do {
            return try BrokerReplication(config: config, store: store, master: master, group: group, logger: logger,
                                         tlsClient: tls.client, leadership: leadership)
        } catch {
            try? await master?.closeUnstarted()
            throw error
        }
    }

    static func haConfig(_ config: BrokerConfig) -> HAConfig {
        var ha = HAConfig()
        ha.listenPort = config.haListenPort ?? config.listenPort + 1
        ha.transferBatchSize = config.haTransferBatchSize
        ha.heartbeatInterval = .milliseconds(config.haSendHeartbeatInterval)
        ha.housekeepingInterval = .milliseconds(config.haHousekeepingInterval)
        ha.ack.fallbehindMax = config.haSlaveFallbehindMax
        ha.ack.maxGapNotInSync = config.haMaxGapNotInSync
        ha.ack.allAckInSyncStateSet = config.allAckInSyncStateSet
        return ha
    }

    /// The HA port actually bound (a master asked for port 0 in tests), else the configured one.
    public var haPort: Int { master?.port ?? config.listenPort }

    /// The services of this role: run after the store opens, stopped before it closes.
    var services: [any Service] { [master as (any Service)?, slave].compactMap { $0 } }

    /// A registration answer's `haServerAddr` (slaves follow it unless `haMasterAddress` is configured) and
    /// `masterAddr` (the master's broker port, for metadata sync). Controller mode follows etcd instead.
    func learned(masterHAAddress: String?, masterAddress broker: String?) {
        guard role == .slave, leadership == nil else { return }
        let ha = masterHAAddress.flatMap { $0.isEmpty ? nil : $0 }, broker = broker.flatMap { $0.isEmpty ? nil : $0 }
        let changed = masterAddress.learned.withLock { learned in
            defer { learned = (ha ?? learned.ha, broker ?? learned.broker) }
            return ha != nil && learned.ha != ha
        }
        if changed, let slave { Task { await slave.masterAddressChanged() } }
    }

    /// The master's broker address: as last learned (nil until a registration answer named it), or in
    /// controller mode the elected master's while following it.
    public var masterBrokerAddress: String? {
        guard let leadership else { return masterAddress.broker }
        return leadership.followedBrokerAddress
    }

    /// What GET_BROKER_EPOCH_CACHE answers: the epoch history, the log end, a master's in-sync set.
    public func epochCache() -> EpochCacheBody {
        EpochCacheBody(clusterName: identity.cluster, brokerName: identity.name, brokerId: identity.id,
                       epochs: epochs.entries, maxOffset: store.maxPhysicalOffset, inSync: master?.acks.inSync)
    }

    /// Whether this broker may answer a send as stored now: always, except in controller mode, where only the
    /// elected master whose lease fence holds may.
    var mayAcknowledge: Bool { leadership?.acknowledges ?? true }

    /// SYNC_MASTER: calls `done` once `end` is acknowledged as the policy requires (RocketMQ's
    /// `CommitLog.handleHA`); its timeout runs on `loop`.
    func whenReplicated(_ end: Int64, on loop: any EventLoop, _ done: @escaping @Sendable (ReplicationOutcome) -> Void) {
        guard let master else { return done(.slaveNotAvailable) }
        master.acks.whenAcked(end, masterEnd: store.maxPhysicalOffset, on: loop, done)
    }
}
