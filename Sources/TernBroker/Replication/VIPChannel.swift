import Logging
import NIOCore
import TernTransport

extension Broker {
    /// RocketMQ 4.x's "VIP channel": an Apache broker also serves its remoting protocol on `listenPort - 2`
    /// (`fastListenPort`), and an Apache SLAVE always asks its master's VIP port for GET_ALL_TOPIC_CONFIG
    /// (`BrokerOuterAPI.getAllTopicConfig`): without it an Apache slave of a Tern master never learns a topic
    /// and refuses to serve it. Same handler, TLS, limits and lifecycle as the main port. Best effort: nil
    /// when the main port is ephemeral (tests) or the VIP port is taken (logged; Tern peers never use it).
    static func bindVIPChannel(config: BrokerConfig, requestedPort: Int, group: any EventLoopGroup,
                               handler: RequestGate, tls: TLSServer?, logger: Logger) async -> RemotingServer? {
        guard requestedPort > 2 else { return nil }
        do {
            let server = try await RemotingServer.start(
                host: config.listenHost, port: requestedPort - 2, group: group, handler: handler,
                idleTimeout: .seconds(Int64(config.clientChannelMaxIdleTimeSeconds)), limits: config.connectionLimits,
                tls: tls, logger: logger)
            logger.info("VIP channel listening", metadata: ["port": "\(requestedPort - 2)"])
            return server
        } catch {
            logger.warning("VIP channel not bound (Apache slaves of this broker cannot sync topics)",
                           metadata: ["port": "\(requestedPort - 2)", "error": "\(error)"])
            return nil
        }
    }
}
