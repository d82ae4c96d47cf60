import Foundation
import NIOCore
import TernSecurity
import TernOps
import TernCoordination
import TernStorage
import TernSystem
import TernTransport

/// Broker settings. Names and units follow RocketMQ's `BrokerConfig` / `MessageStoreConfig` so an existing
/// `broker.conf` maps key for key (see `BrokerConfig+Properties.swift`).
public struct BrokerConfig: Sendable {
    public enum FlushDiskType: String, Sendable, Equatable {
        case asyncFlush = "ASYNC_FLUSH"
        case syncFlush = "SYNC_FLUSH"
    }

    /// Replication role (`brokerRole`): a master streams its log to slaves; SYNC_MASTER also waits for a slave's
    /// acknowledgement before answering a send that waits for the store.
    public enum BrokerRole: String, Sendable, Equatable {
        case asyncMaster = "ASYNC_MASTER"
        case syncMaster = "SYNC_MASTER"
        case slave = "SLAVE"
    }

    public var brokerClusterName = "DefaultCluster"
    public var brokerName = "broker-a"
    /// 0 = master; slaves 1...n.
    public var brokerId: Int64 = 0
    /// Name servers to register with (RocketMQ's `namesrvAddr`, `;`-separated in the file).
    public var namesrvAddr: [String] = []
    /// Address clients are told to use (`brokerIP1`); the registered address is `brokerIP1:listenPort`.
    public var brokerIP1 = "127.0.0.1"
    /// Address the remoting server binds: loopback unless the operator says otherwise (`tern broker` binds
    /// `brokerIP1`), so a broker is never exposed by default.
    public var listenHost = "127.0.0.1"
    public var listenPort = 10911
    public var storePathRootDir = "store"
    /// The commit log's directory (`storePathCommitLog`); nil: `<storePathRootDir>/commitlog`, as RocketMQ derives it.
    public var storePathCommitLog: String?
    public var flushDiskType: FlushDiskType = .asyncFlush
    /// Sync flush: how long a send waits for the group commit before answering FLUSH_DISK_TIMEOUT.
    public var syncFlushTimeout = 5_000
    /// `warmMapedFileEnable`: write log pages back ahead of the writer (`StoreConfig.warmMappedFile`). Off, as in
    /// RocketMQ: it doubles the disk writes; under SYNC_FLUSH it makes each group commit cheaper.
    public var warmMapedFileEnable = false
    /// `transientStorePoolEnable`: records are written into the log with pwrite from private memory instead of
    /// through the mapping (`StoreConfig.writeThrough`). RocketMQ stages them in a pool of direct buffers and commits
    /// them in the background; Tern writes each append call's records before it answers. Off, as in RocketMQ: a
    /// broker spends more CPU per send on it than on the mapped path (BROKER-RESULTS.md); a failing disk then
    /// answers writes with an errno instead of a SIGBUS.
    public var transientStorePoolEnable = false
    /// Async flush: `flushIntervalCommitLog`, `flushCommitLogLeastPages`, `flushCommitLogThoroughInterval`
    /// (changeable at runtime by UPDATE_BROKER_CONFIG). Kept but unused under SYNC_FLUSH, as in RocketMQ.
    public var asyncFlush = AsyncFlushSettings()
    /// Create unknown topics on first send (and register `TBW102` with the INHERIT bit so clients route them).
    public var autoCreateTopicEnable = true
    public var autoCreateSubscriptionGroup = true
    /// Queue count of auto-created topics (RocketMQ `defaultTopicQueueNums`, 8) and the TBW102 write queues.
    public var defaultTopicQueueNums = 8
    /// Largest body accepted (`maxMessageSize`, 4 MiB).
    public var maxMessageSize = 4 << 20
    /// Long polling for pulls with the suspend flag (`longPollingEnable`).
    public var longPollingEnable = true
    /// Longest suspension, whatever the client asks (must stay under the C++ client's 30 s call timeout).
    public var longPollingMaxMillis: Int64 = 20_000
    /// Re-registration period with the name servers (`registerNameServerPeriod`, 30 s).
    public var registerNameServerPeriod = 30_000
    /// Registers with the zlib-compressed body (`compressedRegister`, off as in RocketMQ): far smaller for large
    /// topic tables; the name server then sees every topic's `topicSysFlag` / `order` as 0 / false.
    public var compressedRegister = false
    /// Idle client connections are closed after this (`clientChannelMaxIdleTimeSeconds`, 120 s).
    public var clientChannelMaxIdleTimeSeconds = 120
    /// Commit-log segment size (`mappedFileSizeCommitLog`, 1 GiB).
    public var mappedFileSizeCommitLog = 1 << 30
    /// Retention (`fileReservedTime`, hours).
    public var fileReservedTime = 72
    /// Local hours at which expired segments are deleted (`deleteWhen`, "04").
    public var deleteWhen: Set<Int> = [4]
    /// Above this disk usage (percent) expired segments are deleted at once (`diskMaxUsedSpaceRatio`, 75).
    public var diskMaxUsedSpaceRatio = 75
    /// Above this disk usage the oldest segments whose messages every consumer group has consumed are deleted
    /// before they expire (`rocketmq.broker.diskSpaceCleanForciblyRatio`, 0.85; `cleanFileForciblyEnable`).
    public var diskSpaceCleanForciblyRatio = 0.85
    public var cleanFileForciblyEnable = true
    /// Above this disk usage sends are refused with SERVICE_NOT_AVAILABLE "disk full" until space comes back
    /// (`rocketmq.broker.diskSpaceWarningLevelRatio`, 0.90).
    public var diskSpaceWarningLevelRatio = 0.90
    /// Ordered-consumption queue lock lease (`rocketmq.broker.rebalance.lockMaxLiveTime`, 60 s).
    public var lockMaxLiveTimeMillis: Int64 = 60_000
    // Transactions (features.md §2) and request / reply.
    /// A half message gets its first check-back this long after it was born (`transactionTimeOut`, ms).
    public var transactionTimeOut: Int64 = 6_000
    /// Period of the check-back scan (`transactionCheckInterval`, ms).
    public var transactionCheckInterval: Int64 = 60_000
    /// Check-backs before an unresolved half message is discarded (`transactionCheckMax`).
    public var transactionCheckMax = 15
    /// Refuse transactional sends with NO_PERMISSION (`rejectTransactionMessage`).
    public var rejectTransactionMessage = false
    /// Store reply messages as well as pushing them to the requester (`storeReplyMessageEnable`).
    public var storeReplyMessageEnable = true
    /// SQL92 subscriptions (`enablePropertyFilter`); off: refused with SYSTEM_ERROR, as RocketMQ.
    public var enablePropertyFilter = false
    /// Environment isolation by `__ENV` property and `<group>%env%<name>` group names (ours; README).
    public var environmentIsolationEnable = false
    /// Pre-create the trace topic (`traceTopicEnable`) named `msgTraceTopicName`; the broker's Store trace
    /// records are written for every trace topic whatever this says.
    public var traceTopicEnable = false
    /// Whether send answers tell clients to trace (`traceOn`, the TRACE_ON field; true as in RocketMQ).
    public var traceOn = true
    public var msgTraceTopicName = "RMQ_SYS_TRACE_TOPIC"
    /// Delay levels in ms (`messageDelayLevel`, "1s 5s 10s 30s 1m ... 2h"); level N = entry N.
    public var messageDelayLevelMillis: [Int64] = DelayedDelivery.defaultLevelMillis
    /// Retries before a consumed message goes to `%DLQ%<group>` for groups whose client does not say
    /// (Java: the subscription group's `retryMaxTimes`, 16). Our key: `retryMaxTimes`.
    public var retryMaxTimes: Int32 = 16
    /// Farthest arbitrary delivery time accepted (`timerMaxDelaySec`; ours defaults to 30 days).
    public var timerMaxDelaySec: Int64 = 30 * 86_400
    /// Index backend; `.inMemory` for tests only.
    public var indexBackend: StoreConfig.IndexBackend = .lmdb
    /// Flushed commit log kept in the page cache behind the writer (`cachedCommitLogBytes`, ours; 0: the kernel
    /// decides; unset: `accessMessageInMemoryMaxRatio` % of RAM, the part of the log RocketMQ counts as in memory,
    /// so consumers it serves from memory are the ones this window keeps there): see `StoreConfig.cachedLogBytes`.
    public var cachedCommitLogBytes: Int? = nil
    /// Within that window, log every consumer group has read leaves the page cache once this far behind the
    /// writer (`cachedConsumedCommitLogBytes`, ours; 0: the window alone): see `StoreConfig.cachedConsumedLogBytes`.
    public var cachedConsumedCommitLogBytes: Int = StoreConfig(root: "").cachedConsumedLogBytes ?? 0
    /// How long the dispatcher, woken from idle, waits for more records before its index commit
    /// (`dispatchGatherMicros`, ours; 0: never): see `StoreConfig.dispatchGatherMicros`.
    public var dispatchGatherMicros: Int = StoreConfig(root: "").dispatchGatherMicros
    /// Connection limits of the broker's server (`serverMaxConnections`, `serverPartialFrameTimeoutSeconds`,
    /// `serverPartialFrameBytesMax`; ours): total connections, slowloris deadline, bytes held in partial frames.
    public var connectionLimits = ConnectionLimits()
    /// Flow control, dedup windows and stats (Flow/FlowConfig.swift).
    public var flow = FlowConfig()
    /// The one time source of the broker and its store (schedule, transaction checks, trace, stats,
    /// registration, store times): tests inject a `ManualClock`.
    public var clock: any TernClock = SystemClock()
    // Replication (RocketMQ's HA keys).
    public var brokerRole: BrokerRole = .asyncMaster
    /// The HA server's port (`haListenPort`); nil: `listenPort + 1`, as RocketMQ.
    public var haListenPort: Int?
    /// The HTTP port of the console and the HTTP gateway (`httpPort`); nil: not served.
    public var httpPort: Int?
    /// A slave's master HA address, `host:port` (`haMasterAddress`); nil: learned from the registration answer.
    public var haMasterAddress: String?
    /// The address slaves reach the HA server at (`brokerIP2`); nil: `brokerIP1`.
    public var brokerIP2: String?
    public var haSendHeartbeatInterval = 5_000
    public var haHousekeepingInterval = 20_000
    public var haTransferBatchSize = 32 * 1024
    public var haSlaveFallbehindMax: Int64 = 256 << 20
    /// A replica further behind the master's end leaves the in-sync set (`haMaxGapNotInSync`, bytes).
    public var haMaxGapNotInSync: Int64 = 256 << 20
    /// SYNC_MASTER sends wait for every in-sync member instead of the best slave (`allAckInSyncStateSet`).
    public var allAckInSyncStateSet = false
    /// A slave serves pulls (`slaveReadEnable`).
    public var slaveReadEnable = false
    /// A consumer further behind the log's end than this share of RAM (percent) is told to pull from a slave
    /// (`suggestWhichBrokerId` = its group's `whichBrokerWhenConsumeSlowly`) when `slaveReadEnable` is on
    /// (`accessMessageInMemoryMaxRatio`, RocketMQ's default 40).
    public var accessMessageInMemoryMaxRatio = 40

    /// The store's `cachedLogBytes`: `cachedCommitLogBytes` when set (0: nil, never dropped), else
    /// `accessMessageInMemoryMaxRatio` % of RAM (0 %: nil).
    var cachedLogWindow: Int? {
        if let bytes = cachedCommitLogBytes { return bytes > 0 ? bytes : nil }
        guard accessMessageInMemoryMaxRatio > 0 else { return nil }
        return Int(clamping: Self.physicalMemory / 100 * UInt64(accessMessageInMemoryMaxRatio))
    }

    /// RAM as RocketMQ reads it (the machine's physical memory), for the "in memory" share of the log.
    static let physicalMemory = ProcessInfo.processInfo.physicalMemory
    // Controller mode: the replicas of a brokerName elect their master through etcd (Failover/).
    /// `enableControllerMode` (RocketMQ 5's key): every replica starts as a slave and the election decides.
    public var enableControllerMode = false
    /// `etcdEndpoints` (ours): `http://host:port[;…]`; required with `enableControllerMode`.
    public var etcdEndpoints: [EtcdEndpoint] = []
    /// `controllerLeaseTtlSeconds` (ours): the master's etcd lease; a dead master is replaced about this late.
    public var controllerLeaseTtlSeconds = 3
    /// `controllerFenceMarginMillis` (ours): a master stops acknowledging this long before its lease can expire.
    public var controllerFenceMarginMillis = 1_000
    /// RocketMQ's `tls.*` keys: the remoting and HA ports (`tls.server.*`), links to name servers and the
    /// master (`tls.enable`, `tls.client.*`); `tls.config.file` is read at startup.
    public var tls = TLSConfig()
    /// Enforce RocketMQ's plain ACL (`aclEnable`): every request signed by an account of ``aclFile``.
    public var aclEnable = false
    /// The `plain_acl.yml` (`aclFilePath`); nil: `$ROCKETMQ_HOME/conf/plain_acl.yml` when ROCKETMQ_HOME is set,
    /// else `<storePathRootDir>/conf/plain_acl.yml`.
    public var aclFilePath: String?
    /// `aclBenchmarkUnsignedEnable` (Tern, benchmarks only, default false): with ACL on, a request carrying no
    /// `AccessKey` is admitted unchecked, as by an `aclEnable=false` broker, while signed requests are still
    /// verified in full. `tools/bench-toggle acl` switches one client between signed and unsigned sends every
    /// second against ONE broker, so the cost of verification is compared on one process and one second of
    /// machine state. It opens the broker to anyone: never set it outside a benchmark (startup logs a warning).
    public var aclBenchmarkUnsignedEnable = false
    /// The account the broker signs its own requests to name servers with (`accessKey` / `secretKey`); nil:
    /// the first admin account of the ACL file when ACL is on, else unsigned.
    public var accessKey: String?
    public var secretKey: String?
    /// Prometheus exporter (`metricsExporterType`, `metricsPromExporterHost`, `metricsPromExporterPort`).
    public var metrics = MetricsExporterConfig()

    public init() {}

    /// What the broker signs its name-server requests with: `accessKey` / `secretKey` when both are set, else
    /// the first admin account (by access key) of `acl`; nil: unsigned.
    public func nameServerCredentials(acl: PlainAclFile?) -> AclCredentials? {
        if let accessKey, let secretKey { return AclCredentials(accessKey: accessKey, secretKey: secretKey) }
        let admin = acl?.current.accounts.values.filter(\.isAdmin).min { $0.accessKey < $1.accessKey }
        return admin.map { AclCredentials(accessKey: $0.accessKey, secretKey: $0.secretKey) }
    }

    /// The ACL file used when ``aclEnable`` is on.
    public var aclFile: String {
        aclFilePath ?? PlainAclFile.defaultPath(home: storePathRootDir)
    }

    /// `brokerIP2:haListenPort`, registered as `haServerAddr`.
    public var haServerAddress: String { "\(brokerIP2 ?? brokerIP1):\(haListenPort ?? listenPort + 1)" }

    /// `ip:port` registered with name servers and stamped into records as STOREHOST.
    public var brokerAddress: String { "\(brokerIP1):\(listenPort)" }

    /// The store settings this broker opens its store with.
    public var storeConfig: StoreConfig {
        var s = StoreConfig(root: storePathRootDir)
        s.commitLogDirectory = storePathCommitLog
        s.segmentSize = mappedFileSizeCommitLog
        s.maxMessageSize = maxMessageSize
        s.flushMode = flushDiskType == .syncFlush ? .sync(timeoutMillis: syncFlushTimeout) : .defaultAsync
        s.asyncFlush = asyncFlush
        s.warmMappedFile = warmMapedFileEnable
        s.writeThrough = transientStorePoolEnable
        s.retentionMillis = Int64(fileReservedTime) * 3_600_000
        s.deleteWhenHours = deleteWhen
        s.diskSpace.maxUsedRatio = Double(diskMaxUsedSpaceRatio) / 100
        s.diskSpace.cleanForciblyRatio = diskSpaceCleanForciblyRatio
        s.diskSpace.warningRatio = diskSpaceWarningLevelRatio
        s.cleanFileForciblyEnable = cleanFileForciblyEnable
        s.indexBackend = indexBackend
        s.cachedLogBytes = cachedLogWindow
        s.cachedConsumedLogBytes = cachedConsumedCommitLogBytes > 0 ? cachedConsumedCommitLogBytes : nil
        s.dispatchGatherMicros = dispatchGatherMicros
        s.delayLevelMillis = messageDelayLevelMillis
        s.clock = clock
        s.role = brokerRole == .slave || enableControllerMode ? .follower : .leader
        return s
    }
}
