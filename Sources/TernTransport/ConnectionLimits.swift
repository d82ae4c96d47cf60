import Logging
import NIOCore
import Synchronization
import TernRemoting

/// What one ``RemotingServer`` allows its peers, so a hostile or slow client costs bounded memory and sockets.
public struct ConnectionLimits: Sendable {
    /// Most connections open at once (RocketMQ's `serverMaxConnections`); a connection past it is closed at
    /// accept, with a warning in the log.
    public var maxConnections: Int
    /// Longest a partial frame may wait for its remaining bytes (slowloris); the connection is closed then.
    /// The clock stops while reads are paused, since the peer cannot send then.
    public var partialFrameTimeout: TimeAmount
    /// Most bytes held in partial frames across all connections. The connection whose bytes would pass it is
    /// closed, so N peers each sending 16 MiB − 1 of a frame cannot take N × 16 MiB.
    public var partialFrameBytesMax: Int

    /// Outbound bytes queued for a peer above which its connection stops reading requests
    /// (``ReadPauseReason/unreadResponses``) until the queue drains below `outboundLowWatermark`.
    /// The high mark is above one full pull response, so a normal client never trips it.
    public var outboundHighWatermark: Int
    public var outboundLowWatermark: Int

    public init(maxConnections: Int = 10_000, partialFrameTimeout: TimeAmount = .seconds(30),
                partialFrameBytesMax: Int = 256 << 20,
                outboundHighWatermark: Int = 4 << 20, outboundLowWatermark: Int = 1 << 20) {
        self.maxConnections = maxConnections
        self.partialFrameTimeout = partialFrameTimeout
        self.partialFrameBytesMax = partialFrameBytesMax
        self.outboundHighWatermark = outboundHighWatermark
        self.outboundLowWatermark = outboundLowWatermark
    }
}

/// Shared by all connections of one server: the counters the limits apply to.
final class ConnectionBudget: Sendable {
    let limits: ConnectionLimits
    private let connections = Atomic<Int>(0)
    private let partialBytes = Atomic<Int>(0)

    init(_ limits: ConnectionLimits) { self.limits = limits }

    var openConnections: Int { connections.load(ordering: .relaxed) }
    var partialFrameBytes: Int { partialBytes.load(ordering: .relaxed) }

    /// Counts a new connection; false (and nothing counted) when the limit is reached.
    func admitConnection() -> Bool {
        if connections.wrappingAdd(1, ordering: .relaxed).newValue <= limits.maxConnections { return true }
        connections.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func releaseConnection() { connections.wrappingSubtract(1, ordering: .relaxed) }

    /// Takes `n` more partial-frame bytes; false (and nothing taken) when that would pass the cap.
    func takePartial(_ n: Int) -> Bool {
        if partialBytes.wrappingAdd(n, ordering: .relaxed).newValue <= limits.partialFrameBytesMax { return true }
        partialBytes.wrappingSubtract(n, ordering: .relaxed)
        return false
    }

    func returnPartial(_ n: Int) { if n > 0 { partialBytes.wrappingSubtract(n, ordering: .relaxed) } }
}
