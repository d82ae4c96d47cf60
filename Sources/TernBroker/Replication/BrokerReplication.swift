import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TernReplication
import TernStorage

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
    /// Controller mode: the elected role (the master is whoever etcd says; see Failover/).
    public let leadership: Leadership?
    private let store: MessageStore
    private let config: HAConfig
    private let masterAddress: MasterAddress

    /// The master's HA address: configured, else learned from registration answers.
    final class MasterAddress: Sendable {
        let configured: String?
        let learned = Mutex<String?>(nil)
        init(configured: String?) { self.configured = configured }
        var current: String? { configured ?? learned.withLock { $0 } }
    }

    init(config: BrokerConfig, store: MessageStore, master: HAService?, group: any EventLoopGroup, logger: Logger,
         leadership: Leadership? = nil) {
        self.role = config.brokerRole
        self.store = store
        self.config = Self.haConfig(config)
        self.master = master
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
    static func prepare(config: BrokerConfig, store: MessageStore, group: any EventLoopGroup,
                        logger: Logger, leadership: Leadership? = nil) async throws -> BrokerReplication {
        var master: HAService?
        if config.brokerRole != .slave || leadership != nil {
            var ha = haConfig(config)
            ha.listenHost = config.listenHost
            master = try await HAService.bind(store: store, config: ha, group: group, logger: logger)
        }
        return BrokerReplication(config: config, store: store, master: master, group: group, logger: logger,
                                 leadership: leadership)
    }

    static func haConfig(_ config: BrokerConfig) -> HAConfig {
        var ha = HAConfig()
        ha.listenPort = config.haListenPort ?? config.listenPort + 1
        ha.transferBatchSize = config.haTransferBatchSize
        ha.heartbeatInterval = .milliseconds(config.haSendHeartbeatInterval)
        ha.housekeepingInterval = .milliseconds(config.haHousekeepingInterval)
        ha.slaveFallbehindMax = config.haSlaveFallbehindMax
        return ha
    }

    /// The HA port actually bound (a master asked for port 0 in tests), else the configured one.
    public var haPort: Int { master?.port ?? config.listenPort }

    /// The services of this role: run after the store opens, stopped before it closes.
    var services: [any Service] { [master as (any Service)?, slave].compactMap { $0 } }

    /// A registration answer's `haServerAddr` (slaves follow it unless `haMasterAddress` is configured).
    func learned(masterHAAddress: String?) {
        guard role == .slave, leadership == nil, let masterHAAddress, !masterHAAddress.isEmpty else { return }
        let changed = masterAddress.learned.withLock { learned in
            defer { learned = masterHAAddress }
            return learned != masterHAAddress
        }
        if changed { slave?.masterAddressChanged() }
    }

    /// Whether this broker may answer a send as stored now: always, except in controller mode, where only the
    /// elected master whose lease fence holds may.
    var mayAcknowledge: Bool { leadership?.acknowledges ?? true }

    /// SYNC_MASTER: waits until a slave acknowledged `end` (RocketMQ's `CommitLog.handleHA`).
    func waitForSlave(_ end: Int64) async -> ReplicationOutcome {
        guard let master else { return .slaveNotAvailable }
        return await master.acks.waitForAck(end, masterEnd: store.maxPhysicalOffset,
                                            fallbehindMax: config.slaveFallbehindMax, timeout: config.slaveTimeout)
    }
}
