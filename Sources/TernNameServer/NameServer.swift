import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import ServiceLifecycle
import TernSecurity
import TernOps
import TernTransport

/// A name server: the remoting listener, the expiry scan and, when configured, the HTTP address document.
///
/// Lifecycle: ``prepare(config:group:logger:clock:)`` binds both listeners (requests are answered from then
/// on); ``services`` run in the process's `ServiceGroup`, which on graceful shutdown stops the listeners
/// first (and closes open connections), then the expiry scan. ``start(config:group:logger:clock:)`` /
/// ``shutdown()`` do the same with a group of the name server's own (tests). The event loop group belongs to
/// the caller.
public final class NameServer: Sendable {
    public let config: NameServerConfig
    public let routes: RouteInfoManager
    /// In start order; a `ServiceGroup` stops them in reverse.
    public let services: [any Service]
    private let server: RemotingServer
    private let http: AddressDocumentServer?
    /// The ops HTTP server (`GET /metrics`); nil with metrics off.
    public let ops: OpsHTTPServer?
    private let running = NIOLockedValueBox<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    /// The remoting port actually bound.
    public var port: Int { server.port }
    /// The HTTP port actually bound; nil without HTTP.
    public var httpPort: Int? { http?.port }

    private init(config: NameServerConfig, routes: RouteInfoManager, server: RemotingServer,
                 http: AddressDocumentServer?, services: [any Service], ops: OpsHTTPServer?) {
        self.config = config
        self.routes = routes
        self.server = server
        self.http = http
        self.services = services
        self.ops = ops
    }

    /// Binds the listeners and builds the services; nothing runs in the background until a group runs them.
    public static func prepare(config: NameServerConfig, group: any EventLoopGroup,
                               logger: Logger = Logger(label: "tern.namesrv"),
                               clock: @escaping @Sendable () -> Int64 = RouteInfoManager.wallMillis) async throws -> NameServer {
        // TLS files load before anything binds: a configured but unusable certificate stops startup here.
        let tls = try config.tls.resolved().server.makeServer()
        let routes = RouteInfoManager(brokerExpiryMillis: config.brokerExpiryMillis, clock: clock, logger: logger)
        let acl = try config.aclFilePath.map { path throws(AclConfigError) in try PlainAclFile(path: path, logger: logger) }
        let metrics = config.metrics.enabled ? NameServerMetrics(node: MetricsNode(
            cluster: "", nodeType: .nameserver, nodeId: "\(config.listenHost):\(config.listenPort)")) : nil
        let handler = NameServerRequestHandler(processor: NameServerProcessor(routes: routes, logger: logger, config: config),
                                               acl: acl,
                                               latency: metrics?.rpc)
        let server = try await RemotingServer.start(
            host: config.listenHost, port: config.listenPort, group: group, handler: handler,
            idleTimeout: .seconds(config.idleTimeoutSeconds), tls: tls, logger: logger)
        var http: AddressDocumentServer?
        if let httpPort = config.httpPort {
            do {
                http = try await AddressDocumentServer.start(host: config.listenHost, port: httpPort, group: group,
                                                             addresses: config.addressDocument(boundPort: server.port),
                                                             tls: tls, logger: logger)
            } catch {
                await server.stop()
                throw error
            }
        }
        let ops = metrics.map { m in
            OpsHTTPServer(host: config.metrics.host, port: config.metrics.port,
                          routes: [m.endpoint(routes: routes, server: server)], tls: tls, logger: logger)
        }
        do { try await ops?.checkAvailable(group: group) } catch {
            await http?.stop()
            await server.stop()
            throw error
        }
        let services: [any Service] = [
            PeriodicService(description: "namesrv-expiry-scan", intervalMillis: max(1, config.scanIntervalMillis)) {
                routes.scanNotActiveBrokers()
            },
        ] + (ops.map { [$0] } ?? []) + [
            ListenerService(server: server, http: http, handler: handler),
        ] + (acl.map { acl in
            // Re-reads the ACL file when it changes (a broken file keeps the accounts in force).
            [PeriodicService(description: "namesrv-acl-reload", intervalMillis: max(1, config.aclReloadMillis)) {
                acl.reloadIfChanged()
            }]
        } ?? [])
        logger.info("name server started", metadata: [
            "host": "\(config.listenHost)", "port": "\(server.port)", "http": "\(http.map { String($0.port) } ?? "off")",
            "tls": "\(tls?.mode.rawValue ?? TLSMode.disabled.rawValue)",
        ])
        return NameServer(config: config, routes: routes, server: server, http: http, services: services, ops: ops)
    }

    /// Prepares the name server and runs its services in a group of its own.
    public static func start(config: NameServerConfig, group: any EventLoopGroup,
                             logger: Logger = Logger(label: "tern.namesrv"),
                             clock: @escaping @Sendable () -> Int64 = RouteInfoManager.wallMillis) async throws -> NameServer {
        let ns = try await prepare(config: config, group: group, logger: logger, clock: clock)
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(services: ns.services, logger: logger))
        let task = Task {
            do { try await serviceGroup.run() } catch {
                logger.error("name server services failed", metadata: ["error": "\(error)"])
            }
        }
        ns.running.withLockedValue { $0 = (serviceGroup, task) }
        return ns
    }

    /// Replaces the addresses the HTTP document publishes (no effect without HTTP).
    public func setAddressDocument(_ addresses: [String]) {
        http?.setAddresses(addresses)
    }

    /// The current HTTP document text (nil without HTTP).
    public var addressDocument: String? { http?.addresses }

    /// Graceful shutdown of a name server started with ``start(config:group:logger:clock:)``.
    public func shutdown() async {
        guard let (group, task) = running.withLockedValue({ r in defer { r = nil }; return r }) else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// Closes the listeners of a prepared name server whose services never ran.
    public func abandon() async {
        await http?.stop()
        await server.stop()
    }
}

/// Runs `body` every `intervalMillis` until graceful shutdown (the expiry scan, the ACL file check).
struct PeriodicService: Service, CustomStringConvertible {
    let description: String
    let intervalMillis: Int64
    let body: @Sendable () -> Void

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .milliseconds(intervalMillis))
                body()
            }
        }
    }
}

/// Both listeners, stopped first at shutdown; open connections are closed after them.
struct ListenerService: Service, CustomStringConvertible {
    let server: RemotingServer
    let http: AddressDocumentServer?
    let handler: NameServerRequestHandler
    var description: String { "namesrv-listeners" }

    func run() async throws {
        try? await gracefulShutdown()
        await http?.stop()
        await server.stop()
        handler.closeAll()
    }
}

extension NameServerMetrics {
    /// `GET /metrics` for a name server: the route table's size and the connections, read at each scrape.
    func endpoint(routes: RouteInfoManager, server: RemotingServer) -> MetricsEndpoint {
        let endpoint = MetricsEndpoint(self)
        endpoint.onScrape { [self] in
            let sizes = routes.sizes
            brokers.set(Double(sizes.brokers))
            topics.set(Double(sizes.topics))
            clusters.set(Double(sizes.clusters))
            connections.set(Double(server.openConnections))
        }
        return endpoint
    }
}
