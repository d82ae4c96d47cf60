import Synchronization
import TernCoordination

/// This replica's role in controller mode, read by the send path, the registrar and the HA client, written by
/// the ``FailoverService`` only. A master acknowledges sends only while its lease fence holds (see
/// `LeaseFence`): leadership lost to a partition stops acknowledgements at the fence's deadline even if the
/// failover service is stuck in an etcd call.
public final class Leadership: Sendable {
    public enum State: Sendable, Equatable {
        /// Following `leader`'s HA address once the log was cut to the divergence point (nil: no master).
        case follower(leader: LeaderRecord?)
        case leader(LeaderRecord)
    }

    public let fence: LeaseFence
    /// The configured brokerId, registered while a slave (a master registers as 0).
    public let brokerId: Int
    private let state = Mutex<State>(.follower(leader: nil))
    /// A planned switch is under way: the master acknowledges nothing more, so its log stops growing.
    private let handingOver = Atomic<Bool>(false)

    init(fence: LeaseFence, brokerId: Int) {
        self.fence = fence
        self.brokerId = brokerId
    }

    public var current: State { state.withLock { $0 } }

    public var isLeader: Bool {
        if case .leader = current { return true }
        return false
    }

    /// Whether a send may be answered as stored now.
    public var acknowledges: Bool { isLeader && fence.holds && !handingOver.load(ordering: .acquiring) }

    func setHandingOver(_ value: Bool) { handingOver.store(value, ordering: .releasing) }

    /// The HA address the slave link follows; nil while master or without one.
    public var followAddress: String? {
        if case let .follower(leader) = current { return leader?.haAddr }
        return nil
    }

    /// The broker (remoting) address of the master followed now; nil while master or without one.
    public var followedBrokerAddress: String? {
        if case let .follower(leader) = current { return leader?.addr }
        return nil
    }

    /// The brokerId registered with name servers: 0 while master.
    public var registeredBrokerId: Int { isLeader ? 0 : brokerId }

    func set(_ new: State) {
        if case .follower = new { handingOver.store(false, ordering: .releasing) }
        state.withLock { $0 = new }
    }
}
