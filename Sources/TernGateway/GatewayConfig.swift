import TernSecurity
import TernTransport

/// What the gateway needs to reach the broker it fronts. Built by the process that serves `httpPort` from its
/// broker's configuration; the gateway itself knows no broker types.
public struct GatewayConfig: Sendable {
    /// Name servers the gateway's clients resolve routes with (the broker's `namesrvAddr`).
    public var nameServers: [String]
    /// This process's broker (`host:port` of its remoting port) and its broker name: the group's retry topic
    /// `%RETRY%<group>` is read there (a send-back creates it on the broker that stored the original).
    public var brokerAddress: String
    public var brokerName: String
    /// The broker's `maxMessageSize`: larger bodies are answered 413 without a round trip.
    public var maxMessageSize: Int
    /// The broker's ACL file when it enforces ACL (`aclEnable=true`): the same object the broker checks and
    /// reloads, so tokens follow its reloads; nil: no bearer token is needed.
    public var acl: PlainAclFile?
    /// TLS for the gateway's remoting connections (the broker's client-side `tls.*` keys); nil: plain.
    public var tls: TLSClient?
    /// How long a received message stays invisible to other receivers unless the request names its own.
    public var defaultInvisibleSeconds = 30
    /// Upper bounds of a receive's `wait` (long poll) and `max`.
    public var maxWaitSeconds = 30
    public var maxReceive = 64
    /// Messages a queue may hold pulled but not yet acknowledged; its pulls pause at this bound.
    public var maxPendingPerQueue = 256

    public init(nameServers: [String], brokerAddress: String, brokerName: String, maxMessageSize: Int,
                acl: PlainAclFile? = nil, tls: TLSClient? = nil) {
        self.nameServers = nameServers
        self.brokerAddress = brokerAddress
        self.brokerName = brokerName
        self.maxMessageSize = maxMessageSize
        self.acl = acl
        self.tls = tls
    }
}
