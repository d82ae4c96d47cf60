import Logging
import NIOCore
import TernTransport

/// A running name server: the remoting listener, the expiry scan and, when configured, the HTTP address
/// document.
///
/// Lifecycle: ``start(config:group:logger:clock:)`` answers requests as soon as it returns; ``shutdown()``
/// stops the scan and both listeners and closes open connections (the event loop group belongs to the caller).
public final class NameServer: Sendable {
    public let config: NameServerConfig
    public let routes: RouteInfoManager
    private let server: RemotingServer
    private let handler: NameServerRequestHandler
    private let http: AddressDocumentServer?
    private let scan: RepeatedTask

    /// The remoting port actually bound.
    public var port: Int { server.port }
    /// The HTTP port actually bound; nil without HTTP.
    public var httpPort: Int? { http?.port }

    private init(config: NameServerConfig, routes: RouteInfoManager, server: RemotingServer,
                 handler: NameServerRequestHandler, http: AddressDocumentServer?, scan: RepeatedTask) {
        self.config = config
        self.routes = routes
        self.server = server
        self.handler = handler
        self.http = http
        self.scan = scan
    }

    public static func start(config: NameServerConfig, group: any EventLoopGroup,
                             logger: Logger = Logger(label: "tern.namesrv"),
                             clock: @escaping @Sendable () -> Int64 = RouteInfoManager.wallMillis) async throws -> NameServer {
        let routes = RouteInfoManager(brokerExpiryMillis: config.brokerExpiryMillis, clock: clock, logger: logger)
        let handler = NameServerRequestHandler(processor: NameServerProcessor(routes: routes, logger: logger))
        let server = try await RemotingServer.start(
            host: config.listenHost, port: config.listenPort, group: group, handler: handler,
            idleTimeout: .seconds(config.idleTimeoutSeconds), logger: logger)
        var http: AddressDocumentServer?
        if let httpPort = config.httpPort {
            do {
                http = try await AddressDocumentServer.start(host: config.listenHost, port: httpPort, group: group,
                                                             addresses: config.addressDocument(boundPort: server.port))
            } catch {
                await server.stop()
                throw error
            }
        }
        let interval = TimeAmount.milliseconds(max(1, config.scanIntervalMillis))
        let scan = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            routes.scanNotActiveBrokers()
        }
        logger.info("name server started", metadata: [
            "port": "\(server.port)", "http": "\(http.map { String($0.port) } ?? "off")",
        ])
        return NameServer(config: config, routes: routes, server: server, handler: handler, http: http, scan: scan)
    }

    /// Replaces the addresses the HTTP document publishes (no effect without HTTP).
    public func setAddressDocument(_ addresses: [String]) {
        http?.setAddresses(addresses)
    }

    /// The current HTTP document text (nil without HTTP).
    public var addressDocument: String? { http?.addresses }

    public func shutdown() async {
        scan.cancel()
        await http?.stop()
        await server.stop()
        handler.closeAll()
    }
}
