import Logging
import ServiceLifecycle
import TernBroker
import TernOps
import TernSecurity
import TernTransport

/// The broker's HTTP port (`httpPort`): the built-in console and the HTTP gateway on one Hummingbird server.
/// Both are clients of this process's own broker over its remoting port, as rocketmq-dashboard and RocketMQ's
/// proxies are, so ACL, flow control and consumer offsets are exactly those a RocketMQ client gets.
enum HTTPSurface {
    /// What the routes need to reach the broker they front (its remoting address, its name servers, its
    /// ACL and TLS settings).
    struct Target: Sendable {
        var config: BrokerConfig
        var brokerAddress: String
        /// The broker's ACL file (nil: ACL off); the broker reloads it, the routes read it.
        var acl: PlainAclFile?
        var logger: Logger
    }

    /// The routes served on `httpPort`, each part adding its own.
    static func routes(_ target: Target) throws -> [any OpsRoutes] {
        var routes: [any OpsRoutes] = []
        routes.append(try console(target))
        routes.append(try gateway(target))
        return routes
    }

    /// The server for `httpPort`; nil when the key is not set. `extra`: routes of other parts of the process.
    static func server(config: BrokerConfig, broker: Broker, logger: Logger, extra: [any OpsRoutes] = []) throws -> OpsHTTPServer? {
        guard let port = config.httpPort else { return nil }
        let target = Target(config: broker.context.config, brokerAddress: broker.context.config.brokerAddress, acl: broker.acl,
                            logger: logger)
        return OpsHTTPServer(host: config.listenHost, port: port, routes: try routes(target) + extra,
                             tls: try config.tls.resolved().server.makeServer(), logger: logger)
    }
}
