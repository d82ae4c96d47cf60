import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TernCoordination
import TernRemoting
import TernReplication
import TernSecurity
import TernStorage
import TernOps
import TernTransport

/// A broker: the store opened (recovery done), the remoting server bound, and its background work as
/// swift-service-lifecycle services.
///
/// Lifecycle: ``prepare(config:group:logger:)`` recovers the store and binds the server; requests are
/// answered from then on. ``services`` are run by one `ServiceGroup` per process (`tern` adds the name
/// server's), which starts them after recovery and, on graceful shutdown (SIGTERM / SIGINT), stops them in
/// reverse order: remoting server (stop accepting, refuse new requests) → in-flight requests (suspended
/// pulls answered, send-backs drained) → registrar (unregister) → client expiry → stats log → trace →
/// transaction checks → schedule → consumer offsets (pending commits written) → topic table (last write) →
/// store (final dispatch, flush, close). ``start(config:group:logger:)`` / ``shutdown()`` do the same with a group of the broker's own
/// (in-process tests).
public final class Broker: Sendable {
    public let context: BrokerContext
    /// Starts, stops and recovery in order (tests check the order without timing).
    public let events: LifecycleEvents
    /// In start order; a `ServiceGroup` stops them in reverse.
    public let services: [any Service]
    private let server: RemotingServer
    private let timers: [TimerService]
    /// Controller mode: the timers that run while this replica holds a role (empty with fixed roles).
    private let roleServices: [RoleServices]
    /// The ops HTTP server (`GET /metrics`); nil with metrics off.
    public let ops: OpsHTTPServer?
    /// The ACL file in force; nil with `aclEnable=false`.
    public let acl: PlainAclFile?
    private let running = Mutex<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    /// The port actually bound (differs from the config when it asked for port 0).
    public var port: Int { server.port }
    /// The remoting server, for a benchmark that drives its pipeline without sockets (`configureEmbedded`).
    @_spi(Benchmarks) public var remotingServer: RemotingServer { server }
    public var store: MessageStore { context.store }

    private init(context: BrokerContext, events: LifecycleEvents, services: [any Service], server: RemotingServer,
                 timers: [TimerService], roleServices: [RoleServices], ops: OpsHTTPServer?, acl: PlainAclFile?) {
        self.context = context
        self.events = events
        self.services = services
        self.server = server
        self.timers = timers
        self.roleServices = roleServices
        self.ops = ops
        self.acl = acl
    }

    /// Opens the store (recovery), binds the server and builds the services; nothing runs in the background
    /// until a group runs ``services``. On failure everything opened is closed again.
    public static func prepare(config: BrokerConfig, group: any EventLoopGroup,
                               logger: Logger = Logger(label: "tern.broker")) async throws -> Broker {
        var config = config
        // TLS files load before anything opens: a configured but unusable certificate stops startup here.
        config.tls = try config.tls.resolved()
        let tlsServer = try config.tls.server.makeServer()
        let tlsClient = try config.tls.client.makeClient()
        // RocketMQ's default HA port is listenPort + 1; an ephemeral broker (tests) gets an ephemeral HA port.
        config.haListenPort = config.haListenPort ?? (config.listenPort == 0 ? 0 : config.listenPort + 1)
        let events = LifecycleEvents(logger: logger)
        let metrics = config.metrics.enabled ? BrokerMetrics(node: MetricsNode(
            cluster: config.brokerClusterName, nodeType: .broker, nodeId: config.brokerName)) : nil
        var storeConfig = config.storeConfig
        storeConfig.observer = metrics.map(StoreTimings.init)
        let store = try MessageStore.open(storeConfig, logger: logger)
        events.record("store recovered")
        var server: RemotingServer?
        var vip: RemotingServer?
        var replication: BrokerReplication?
        do {
            let topics = try TopicConfigManager(storeRoot: config.storePathRootDir, config: config, logger: logger)
            // ACL on: a missing or broken file stops startup (a broker asked to enforce ACL must not start open).
            let acl = config.aclEnable ? try PlainAclFile(path: config.aclFile, logger: logger) : nil
            if acl != nil && config.aclBenchmarkUnsignedEnable {
                logger.warning("aclBenchmarkUnsignedEnable=true: unsigned requests are admitted unchecked (benchmarks only)")
            }
            // Port 0 (tests): bind first so the registered address and STOREHOST carry the real port.
            let gate = RequestGate(metrics: metrics)
            let bound = try await RemotingServer.start(
                host: config.listenHost, port: config.listenPort, group: group, handler: gate,
                idleTimeout: .seconds(Int64(config.clientChannelMaxIdleTimeSeconds)), limits: config.connectionLimits,
                tls: tlsServer, logger: logger)
            server = bound
            vip = await Self.bindVIPChannel(config: config, requestedPort: config.listenPort, group: group,
                                            handler: gate, tls: tlsServer, logger: logger)
            config.listenPort = bound.port
            let election = try Self.election(config: config, group: group)
            let leadership = election.map { Leadership(fence: $0.fence, brokerId: Int(config.brokerId)) }
            replication = try await BrokerReplication.prepare(config: config, store: store, group: group, logger: logger,
                                                              tls: (tlsServer, tlsClient), leadership: leadership)
            if let master = replication?.master { config.haListenPort = master.port }
            let context = try BrokerContext(config: config, store: store, topics: topics, group: group, logger: logger,
                                            replication: replication, metrics: metrics)
            let transactions = TransactionProcessor(context: context)
            let consumers = ConsumerProcessor(context: context)
            let handler = BrokerRequestHandler(processors: [
                SendProcessor(context: context),
                consumers,
                AdminProcessor(context: context),
                transactions, ReplyProcessor(context: context),
                FlowAdminProcessor(context: context),
                MetricsRecordingProcessor(context: context),
                RetryProcessor(context: context),
                ReplicationProcessor(context: context),
            ], gates: acl.map { [AclGate(acl: $0, admitsUnsigned: config.aclBenchmarkUnsignedEnable)] } ?? [],
               flow: context.flow)
            let registrar = NameServerRegistrar(context: context, tls: tlsClient,
                                                credentials: config.nameServerCredentials(acl: acl))
            // A slave's log is its master's: it runs no service that appends records of its own. In controller
            // mode these run while the election makes this replica master (or follow a master), see Failover/.
            let appendingServices: @Sendable () -> [TimerService] = {
                [ScheduleService(context: context).service(events: events),
                 transactions.service.service(events: events),
                 TraceRecorder(context: context).service(events: events)]
            }
            let slaveServices: @Sendable () -> [TimerService] = { [SlaveSync(context: context).service(events: events)] }
            let fixedRole = !config.enableControllerMode
            let replicaOnly = fixedRole && config.brokerRole == .slave ? slaveServices() : []
            let appending = fixedRole && config.brokerRole != .slave ? appendingServices() : []
            let roleBound = fixedRole ? nil : (master: RoleServices(name: "master-services", logger: logger, make: appendingServices),
                                               slave: RoleServices(name: "slave-services", logger: logger, make: slaveServices))
            let roleServices = roleBound.map { [$0.master, $0.slave] } ?? []
            let persisting = [
                topics.persistService(events: events),
                context.groups.persistService(events: events),
                context.offsets.service(clock: context.clock, events: events),
            ]
            let others = [
                context.flow.statsLogService(clock: context.clock, events: events),
                consumers.clientService.expiryService(events: events),
                registrar.service(events: events),
            ] + (acl.map { [AclGate.reloadService($0, clock: context.clock, events: events)] } ?? [])
            let timers = persisting + appending + replicaOnly + others
            topics.setOnChange { registrar.registerNow() }
            let ops = context.metering.map { m in
                OpsHTTPServer(host: config.metrics.host, port: config.metrics.port,
                              routes: [m.endpoint(context: context, server: bound, consumers: consumers)], tls: tlsServer,
                              logger: logger)
            }
            try await ops?.checkAvailable(group: group)
            var failover: [any Service] = []
            if let election, let leadership, let roleBound {
                failover = [FailoverService(election: election, leadership: leadership, store: store,
                                            replication: context.replication, addr: config.brokerAddress,
                                            haAddr: config.haServerAddress,
                                            masterServices: roleBound.master, slaveServices: roleBound.slave,
                                            roleChanged: { registrar.registerNow() }, logger: logger)]
            }
            let background: [any Service] = persisting + appending + replicaOnly
                + roleServices + others
            let services: [any Service] = [StopService.store(store, events: events)] + context.replication.services
                + failover + background + (ops.map { [$0] } ?? []) + [
                StopService.requests(handler, events: events),
                StopService.remotingServer(bound, gate: gate, events: events),
            ] + (vip.map { [StopService.remotingServer($0, gate: gate, events: events)] } ?? [])
            gate.open(handler)
            logger.info("broker prepared", metadata: [
                "address": "\(config.brokerAddress)", "store": "\(config.storePathRootDir)",
                "recovery": "\(store.recovery)",
            ])
            return Broker(context: context, events: events, services: services, server: bound, timers: timers,
                          roleServices: roleServices, ops: ops, acl: acl)
        } catch {
            await server?.stop()
            await vip?.stop()
            try? await replication?.master?.closeUnstarted()
            store.close()
            throw error
        }
    }

    /// Controller mode's election client (nil without `enableControllerMode`).
    private static func election(config: BrokerConfig, group: any EventLoopGroup) throws -> LeaderElection? {
        guard config.enableControllerMode else { return nil }
        guard !config.etcdEndpoints.isEmpty else {
            throw BrokerError.badConfigValue(key: "etcdEndpoints", value: "", reason: "required with enableControllerMode=true")
        }
        guard config.brokerId > 0 else {
            throw BrokerError.badConfigValue(key: "brokerId", value: "\(config.brokerId)",
                                             reason: "controller mode: each replica needs its own brokerId >= 1 (the master registers as 0)")
        }
        let etcd = EtcdClient(endpoints: config.etcdEndpoints, group: group)
        return LeaderElection(etcd: etcd, keys: ElectionKeys(cluster: config.brokerClusterName, brokerName: config.brokerName),
                              brokerId: Int(config.brokerId), ttlSeconds: Int64(config.controllerLeaseTtlSeconds),
                              margin: .milliseconds(config.controllerFenceMarginMillis), clock: config.clock)
    }

    /// Prepares the broker and runs its services in a group of its own (in-process use; `tern` runs one
    /// group for the whole process instead).
    public static func start(config: BrokerConfig, group: any EventLoopGroup,
                             logger: Logger = Logger(label: "tern.broker")) async throws -> Broker {
        let broker = try await prepare(config: config, group: group, logger: logger)
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(services: broker.services, logger: logger))
        let task = Task {
            do { try await serviceGroup.run() } catch {
                logger.error("broker services failed", metadata: ["error": "\(error)"])
            }
        }
        broker.running.withLock { $0 = (serviceGroup, task) }
        return broker
    }

    /// Graceful shutdown of a broker started with ``start(config:group:logger:)``: returns once every service
    /// stopped and the store is closed.
    public func shutdown() async {
        guard let (group, task) = running.withLock({ r in defer { r = nil }; return r }) else { return }
        await group.triggerGracefulShutdown()
        await task.value
        context.topics.setOnChange(nil)
        context.logger.info("broker stopped")
    }

    /// Closes a prepared broker whose services never ran (a sibling failed to start).
    public func abandon() async {
        context.topics.setOnChange(nil)
        await server.stop()
        try? await context.replication.master?.closeUnstarted()
        context.offsets.writePending()
        context.store.close()
    }

    /// The timer service called `name` ("schedule", "transaction-check", ...), a role's while it runs.
    func timer(named name: String) -> TimerService? {
        timers.first { $0.name == name } ?? roleServices.lazy.compactMap { $0.timer(named: name) }.first
    }

    /// Makes every timer re-read the clock now (tests that move a `ManualClock`).
    public func clockChanged() {
        for t in timers { t.wake() }
        for r in roleServices { r.wake() }
    }
}
