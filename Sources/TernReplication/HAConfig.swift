import TernTransport

/// Replication settings, named after RocketMQ's broker keys (`haTransferBatchSize`, `haSendHeartbeatInterval`, …).
public struct HAConfig: Sendable {
    /// Master: the address the HA server binds (`haListenPort`; 0 picks a free port, for tests).
    public var listenHost: String = "0.0.0.0"
    public var listenPort: Int = 10912
    /// `haTransferBatchSize`: the largest transfer body; the slave refuses larger frames.
    public var transferBatchSize: Int = 32 * 1024
    /// `haSendHeartbeatInterval`: an idle master sends an empty frame, a slave re-reports its offset.
    public var heartbeatInterval: Duration = .seconds(5)
    /// `haHousekeepingInterval`: this long without a byte from the peer closes the link.
    public var housekeepingInterval: Duration = .seconds(20)
    /// SYNC_MASTER's acknowledgement rules and the in-sync set's gap.
    public var ack = AckPolicy()
    /// Slave: the pause before reconnecting after a link closed (RocketMQ's HAClient waits 5 s).
    public var reconnectPause: Duration = .seconds(5)
    /// Master: TLS of the HA port (the broker's `tls.server.*`); nil: plain.
    public var tlsServer: TLSServer?
    /// Slave: TLS of the link to the master (`tls.enable`, `tls.client.*`); nil: plain.
    public var tlsClient: TLSClient?

    public init() {}
}
