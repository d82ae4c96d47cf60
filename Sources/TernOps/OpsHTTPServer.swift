import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TernTransport

/// Routes one part of the operations surface adds to the ops HTTP server (metrics today; the console and the
/// HTTP gateway add theirs the same way).
public protocol OpsRoutes: Sendable {
    func register(on router: Router<BasicRequestContext>)
}

/// Why the ops HTTP server did not start.
public struct OpsServerError: Error, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var underlying: any Error
    public var description: String {
        "ops HTTP server could not listen on \(host):\(port) (metricsPromExporterHost / metricsPromExporterPort): \(underlying)"
    }
}

/// The HTTP server for operations (Hummingbird) as a swift-service-lifecycle `Service`: runs in the process's
/// service group and stops with it. A bind failure ends `run` with an ``OpsServerError`` naming the address,
/// which fails the group, so a process whose ops port is taken does not come up half-monitored.
public final class OpsHTTPServer: Service, Sendable {
    public let host: String
    public let requestedPort: Int
    private let routes: [any OpsRoutes]
    /// The port's TLS (the process's `tls.server.*` keys); nil: plain HTTP.
    private let tls: TLSServer?
    private let logger: Logger
    private let bound = Mutex<Int?>(nil)
    private let boundEvent = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))

    public init(host: String, port: Int, routes: [any OpsRoutes], tls: TLSServer? = nil, logger: Logger) {
        self.host = host
        self.requestedPort = port
        self.routes = routes
        self.tls = tls
        self.logger = logger
    }

    /// The port listened on once running (differs from the requested one when that was 0).
    public var port: Int? { bound.withLock { $0 } }

    /// Waits until the server listens (or `timeout` passes); nil when it did not.
    public func listening(timeout: Duration = .seconds(10)) async -> Int? {
        if let p = port { return p }
        return await withTaskGroup(of: Int?.self) { group in
            group.addTask { [boundEvent] in
                for await p in boundEvent.stream { return p }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? port
        }
    }

    /// Binds the address once and lets it go, so a process whose ops port is taken fails while it starts
    /// (before it reports ready) rather than from its running service group. Port 0 needs no check.
    public func checkAvailable(group: any EventLoopGroup) async throws {
        guard requestedPort != 0 else { return }
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: requestedPort).get()
            try await channel.close()
        } catch {
            throw OpsServerError(host: host, port: requestedPort, underlying: error)
        }
    }

    public func run() async throws {
        let router = Router()
        for r in routes { r.register(on: router) }
        let app = Application(
            router: router,
            server: .ops(tls: tls),
            configuration: ApplicationConfiguration(address: .hostname(host, port: requestedPort), serverName: nil),
            onServerRunning: { [self] channel in
                let p = channel.localAddress?.port ?? 0
                bound.withLock { $0 = p }
                boundEvent.continuation.yield(p)
                logger.info("ops HTTP server listening", metadata: ["address": "\(host):\(p)"])
            },
            logger: logger)
        do {
            try await app.run()
        } catch {
            if port == nil { throw OpsServerError(host: host, port: requestedPort, underlying: error) }
            throw error
        }
    }
}
