import TernTransport

/// Name-server settings (RocketMQ `NamesrvConfig` / `NettyServerConfig` where they overlap).
public struct NameServerConfig: Sendable, Equatable {
    /// Loopback unless the operator says otherwise (`tern namesrv --host`): never exposed by default.
    public var listenHost = "127.0.0.1"
    public var listenPort = 9876
    /// Port of the HTTP name-server address document (`GET /rocketmq/nsaddr`); nil = no HTTP server.
    /// Java clients given a name-server domain fetch `http://<domain>:8080/rocketmq/nsaddr`.
    public var httpPort: Int?
    /// Brokers not refreshed for this long are dropped (`BROKER_CHANNEL_EXPIRED_TIME`, 120 s).
    public var brokerExpiryMillis: Int64 = 120_000
    /// How often expired brokers are looked for (10 s).
    public var scanIntervalMillis: Int64 = 10_000
    /// Idle remoting connections are closed after this (`serverChannelMaxIdleTimeSeconds`, 120 s).
    public var idleTimeoutSeconds: Int64 = 120
    /// RocketMQ's `tls.server.*` keys (and `tls.config.file`), for the remoting port and the HTTP port.
    public var tls = TLSConfig()

    private var explicitAddressDocument: [String]?

    public init() {}

    /// Name-server addresses the HTTP document publishes. Default: `127.0.0.1:<listenPort>` (the bound port
    /// when `listenPort` is 0).
    public var addressDocument: [String] {
        get { explicitAddressDocument ?? ["127.0.0.1:\(listenPort)"] }
        set { explicitAddressDocument = newValue }
    }

    /// The document for a server bound to `port`.
    func addressDocument(boundPort port: Int) -> [String] {
        explicitAddressDocument ?? ["127.0.0.1:\(port)"]
    }
}
