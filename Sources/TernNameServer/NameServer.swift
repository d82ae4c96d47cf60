import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
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
    private let running = NIOLockedValueBox<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    /// The remoting port actually bound.
    public var port: Int { server.port }
    /// The HTTP port actually bound; nil without HTTP.
    public var httpPort: Int? { http?.port }

    private init(config: NameServerConfig, routes: RouteInfoManager, server: RemotingServer,
                 http: AddressDocumentServer?, services: [any Service]) {
        self.config = config
        self.routes = routes
        self.server = server
        self.http = http
        self.services = services
    }

    /// Binds the listeners and builds the services; nothing runs in the background until a group runs them.
    public static func prepare(config: NameServerConfig, group: any EventLoopGroup,
                               logger: Logger = Logger(label: "tern.namesrv"),
                               clock: @escaping @Sendable () -> Int64 = RouteInfoManager.wallMillis) async throws -> NameServer {
        // TLS files load before anything binds: a configured but unusable certificate stops startup here.
        let tls = try config.tls.resolved().server.makeServer()
        let routes = RouteInfoManager(brokerExpiryMillis: config.brokerExpiryMillis, clock: clock, logger: logger)
        let handler = NameServerRequestHandler(processor: NameServerProcessor(routes: routes, logger: logger))
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
        let services: [any Service] = [
            ExpiryScanService(routes: routes, intervalMillis: max(1, config.scanIntervalMillis)),
            ListenerService(server: server, http: http, handler: handler),
        ]
        logger.info("name server started", metadata: [
            "host": "\(config.listenHost)", "port": "\(server.port)", "http": "\(http.map { String($0.port) } ?? "off")",
            "tls": "\(tls?.mode.rawValue ?? TLSMode.disabled.rawValue)",
        ])
        return NameServer(config: config, routes: routes, server: server, http: http, services: services)
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

/// Drops brokers whose registration expired, every `intervalMillis`.
struct ExpiryScanService: Service, CustomStringConvertible {
    let routes: RouteInfoManager
    let intervalMillis: Int64
    var description: String { "namesrv-expiry-scan" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .milliseconds(intervalMillis))
                routes.scanNotActiveBrokers()
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
