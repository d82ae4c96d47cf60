/// The master's in-sync set (RocketMQ 5's `SyncStateSet`): the replicas that may be elected, and, with
/// `allAckInSyncStateSet`, the ones every SYNC send waits for. The master itself is always a member and is
/// not listed.
///
/// Membership (RocketMQ 5's `haMaxGapNotInSync`, in bytes, with hysteresis so a member does not flap):
/// - a connected replica joins when it has caught up: its report reaches the master's end as it was at its
///   previous report (one round trip behind, so it can join under a steady load);
/// - a member leaves when it disconnects, or when the master's end is more than `maxGapNotInSync` above its
///   acknowledged offset (checked at each report and each link tick).
public struct InSyncSet: Sendable, Equatable, CustomStringConvertible {
    public struct Replica: Sendable, Equatable {
        /// The HA link's id on this master (unique while the master runs).
        public var link: Int
        /// The replica's HA link address as the master sees it ("ip:port"; the replica's `HAClient` knows
        /// the same address as `linkAddress`).
        public var peer: String
        /// Its last acknowledged offset.
        public var acked: Int64
    }

    /// Members besides the master, by link id.
    public var replicas: [Replica]
    /// The master's log end when the set last changed.
    public var masterOffset: Int64

    public init(replicas: [Replica] = [], masterOffset: Int64 = 0) {
        self.replicas = replicas
        self.masterOffset = masterOffset
    }

    public var description: String {
        "in-sync {master\(replicas.map { ", \($0.peer)@\($0.acked)" }.joined())} at \(masterOffset)"
    }
}

/// SYNC_MASTER's settings (RocketMQ's broker keys).
public struct AckPolicy: Sendable, Equatable {
    /// `allAckInSyncStateSet`: a SYNC send waits for every in-sync member (none: acknowledged at once),
    /// instead of for the best slave.
    public var allAckInSyncStateSet = false
    /// `haMaxGapNotInSync`: a member further behind the master's end leaves the in-sync set.
    public var maxGapNotInSync: Int64 = 256 << 20
    /// `haSlaveFallbehindMax`: without `allAckInSyncStateSet`, SLAVE_NOT_AVAILABLE when the best slave lags more.
    public var fallbehindMax: Int64 = 256 << 20
    /// `slaveTimeout`: FLUSH_SLAVE_TIMEOUT when the acknowledgement does not come within it.
    public var timeout: Duration = .seconds(3)

    public init() {}
}
