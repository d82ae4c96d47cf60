import TernBroker
import TernGateway
import TernTransport

extension HTTPSurface {
    /// The HTTP gateway: a RocketMQ client of this broker over its remoting port; with ACL on it checks the
    /// caller's bearer token against the broker's own ACL file (reloaded by the broker) and signs with the
    /// caller's account.
    static func gateway(_ target: Target) throws -> HTTPGateway {
        let config = target.config
        return try HTTPGateway(config: GatewayConfig(
            nameServers: config.namesrvAddr, brokerAddress: target.brokerAddress, brokerName: config.brokerName,
            maxMessageSize: config.maxMessageSize, acl: target.acl,
            tls: try config.tls.resolved().client.makeClient()), logger: target.logger)
    }
}
