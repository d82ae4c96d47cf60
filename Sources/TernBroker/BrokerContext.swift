import Logging
import NIOCore
import TernMessage
import TernProtocol
import TernStorage
import TernSystem

/// What every request processor shares: the configuration, the store, the topic table and the event loops.
/// Immutable after startup; each member is itself thread-safe.
public final class BrokerContext: Sendable {
    public let config: BrokerConfig
    public let store: MessageStore
    public let topics: TopicConfigManager
    public let group: any EventLoopGroup
    public let logger: Logger
    /// The broker's time source (`BrokerConfig.clock`).
    public var clock: any TernClock { config.clock }
    /// STOREHOST of records written here: `brokerIP1:listenPort`, which clients use for send-back and
    /// to decode offset message ids.
    public let storeHost: HostAddress
    /// Connected producers and consumers by group (heartbeats): consumer lists and notifications, and the
    /// way back to a producer (transaction check-back) or a requester (request/reply).
    let clients = ClientRegistry()
    /// Rate limits, fast failure, dedup windows and stats (Flow/).
    public let flow: FlowControl
    /// Consumer offsets, written in batches off the event loops.
    let offsets: OffsetService
    /// The replication role's services and SYNC_MASTER's slave acknowledgements.
    public let replication: BrokerReplication
    /// Consumer groups' settings (`config/subscriptionGroup.json`).
    public let groups: SubscriptionGroupManager

    public init(config: BrokerConfig, store: MessageStore, topics: TopicConfigManager, group: any EventLoopGroup,
                logger: Logger, replication: BrokerReplication? = nil) throws {
        self.config = config
        self.store = store
        self.topics = topics
        self.group = group
        self.logger = logger
        guard let host = HostAddress(config.brokerAddress) else {
            throw BrokerError.badConfigValue(key: "brokerIP1", value: config.brokerIP1, reason: "must be an IPv4 address")
        }
        self.storeHost = host
        self.replication = replication
            ?? BrokerReplication(config: config, store: store, master: nil, group: group, logger: logger)
        self.offsets = OffsetService(store: store, logger: logger)
        self.groups = try SubscriptionGroupManager(storeRoot: config.storePathRootDir, config: config, logger: logger)
        self.flow = FlowControl(config: config.flow, store: store, storeRoot: config.storePathRootDir, logger: logger)
    }
}
