import Logging
import ServiceLifecycle
import TernCoordination
import TernReplication
import TernStorage

/// Controller mode (`enableControllerMode=true`, `etcdEndpoints`): the replicas of a `brokerName` elect their
/// master through etcd (RocketMQ 5's controller role, without a controller process).
///
/// Every `tick` (a sixth of the lease TTL: a dead master's successor waits for the TTL plus about two ticks) each replica renews its lease and publishes its log end
/// (`ReplicaStatus`). Then:
/// - master: checks it still holds the leader key and its fence, publishes the in-sync set (the replicas whose
///   HA links its acknowledgements keep in sync, see `InSyncSet`); anything else steps it down (its own
///   appenders stopped, awaited);
/// - slave with a master: follows it, after closing the link to any previous master and cutting its log where
///   its epoch history and the master's diverge, and syncs metadata from it;
/// - slave without a master: after one more tick (so every live replica has published a fresh offset),
///   contends if `ElectionRule` names it (an in-sync member with the longest log), and on winning records the
///   epoch's start in its epoch history, promotes its store, starts the master's own appenders (schedule,
///   transaction check, trace: ``masterServices``), serves HA and re-registers as brokerId 0.
/// The epoch history lives only in the replica's durable `EpochStore`; etcd holds the leader record and the
/// last epoch number handed out (the campaign's compare-and-put).
/// A graceful shutdown revokes the lease: the leader key goes at once and the next master is elected within a
/// tick or two instead of a TTL.
final class FailoverService: Service, Sendable {
    let election: LeaderElection
    let leadership: Leadership
    private let store: MessageStore
    private let replication: BrokerReplication
    private let addr: String
    private let haAddr: String
    private let tick: Duration
    private let roleChanged: @Sendable () -> Void
    /// Run only while master (they append records of their own) / while following a master (metadata sync).
    let masterServices: RoleServices
    let slaveServices: RoleServices
    private let logger: Logger

    init(election: LeaderElection, leadership: Leadership, store: MessageStore, replication: BrokerReplication,
         addr: String, haAddr: String, masterServices: RoleServices, slaveServices: RoleServices,
         roleChanged: @escaping @Sendable () -> Void, logger: Logger) {
        self.election = election
        self.leadership = leadership
        self.store = store
        self.replication = replication
        self.addr = addr
        self.haAddr = haAddr
        self.tick = .milliseconds(max(100, election.ttlSeconds * 1000 / 6))
        self.roleChanged = roleChanged
        self.masterServices = masterServices
        self.slaveServices = slaveServices
        var logger = logger
        logger[metadataKey: "failover.group"] = "\(election.keys.prefix)"
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var leaderlessTicks = 0
            while !Task.isCancelled {
                leaderlessTicks = await self.step(leaderlessTicks: leaderlessTicks)
                try? await Task.sleep(for: self.tick)
            }
        }
        if case let .leader(record) = leadership.current {
            try? await election.resign(record)
        }
        await election.close()
        logger.info("failover stopped")
    }

    /// One round; returns how many consecutive rounds found no master.
    func step(leaderlessTicks: Int) async -> Int {
        do {
            let status = ReplicaStatus(brokerId: election.brokerId, addr: addr, haAddr: haAddr,
                                       offset: store.replicationOffset, epoch: replication.epochs.current?.epoch ?? 0,
                                       link: leadership.isLeader ? nil : replication.slave?.linkAddress)
            try await election.heartbeat(status)
            if case let .leader(record) = leadership.current {
                guard election.fence.holds, try await election.stillLeader(record) else {
                    await stepDown(reason: "lost the leader key or the lease")
                    return 0
                }
                let replicas = try await election.replicas()
                let links = Set(replication.master?.acks.inSync.replicas.map(\.peer) ?? [])
                let members = ElectionRule.inSync(masterId: election.brokerId, replicas: replicas, linksInSync: links)
                let set = SyncSet(epoch: record.epoch, masterId: record.brokerId, members: members)
                if try await election.syncSet() != set { try await election.publish(set, as: record) }
                try await handOverIfAsked(record, replicas: replicas, members: members)
                return 0
            }
            if let (leader, _) = try await election.leader() {
                try await follow(leader)
                return 0
            }
            await leaderGone()
            guard leaderlessTicks >= 1 else { return leaderlessTicks + 1 }
            let replicas = try await election.replicas()
            let syncSet = try await election.syncSet()
            let handover = try await election.handoverTarget()
            guard ElectionRule.shouldContend(me: election.brokerId, replicas: replicas, syncSet: syncSet, handover: handover) else {
                if leaderlessTicks % 8 == 1 {
                    logger.info("no master; not contending", metadata: [
                        "syncset": "\(syncSet?.members ?? [])", "replicas": "\(replicas.map { "\($0.brokerId)@\($0.offset)" })",
                    ])
                }
                return leaderlessTicks + 1
            }
            switch try await election.campaign(addr: addr, haAddr: haAddr) {
            case let .won(record):
                try await becomeLeader(record)
                if handover == election.brokerId { try await election.clearHandover() }
                return 0
            case let .lost(leader):
                if let leader { try await follow(leader) }
                return 0
            }
        } catch {
            logger.warning("failover round failed", metadata: ["error": "\(error)"])
            if leadership.isLeader, !election.fence.holds { await stepDown(reason: "lease fence closed") }
            return leaderlessTicks
        }
    }

    /// A planned switch (`electMaster`) to an in-sync replica: stop acknowledging (the log stops growing),
    /// and once the target reports this log's end, resign, so the target wins with nothing missing.
    private func handOverIfAsked(_ record: LeaderRecord, replicas: [ReplicaStatus], members: [Int]) async throws {
        guard let target = try await election.handoverTarget(), target != election.brokerId else { return }
        guard members.contains(target) else {
            logger.warning("handover target is not in sync; ignored", metadata: ["target": "\(target)"])
            try await election.clearHandover()
            return
        }
        leadership.setHandingOver(true)
        let targetOffset = replicas.first { $0.brokerId == target }?.offset ?? -1
        guard targetOffset >= store.maxPhysicalOffset else { return }
        try await election.resign(record)
        await stepDown(reason: "handed over to broker \(target)")
    }

    /// The slave's metadata sync stops before the store is promoted; the master's own appenders start after.
    private func becomeLeader(_ record: LeaderRecord) async throws {
        await slaveServices.stop()
        // Durable before the first own append: a rejoining replica's cut depends on where this epoch began.
        try replication.epochs.begin(epoch: record.epoch, at: store.maxPhysicalOffset)
        try store.promote()
        leadership.set(.leader(record))
        masterServices.start()
        logger.notice("elected master", metadata: [
            "epoch": "\(record.epoch)", "offset": "\(store.maxPhysicalOffset)", "fence.ms": "\(election.fence.remainingNanos / 1_000_000)",
        ])
        roleChanged()
    }

    /// The store refuses appends at once (a master's own appenders that are mid-step fail and stop); returns
    /// once those appenders have stopped, so nothing appends while the log is cut to follow another master.
    private func stepDown(reason: String) async {
        election.fence.drop()
        guard case .leader = leadership.current else { return }
        try? store.demote()
        leadership.set(.follower(leader: nil))
        logger.warning("stepped down", metadata: ["reason": "\(reason)"])
        await masterServices.stop()
        roleChanged()
    }

    /// The master's key is gone: its HA link is dropped and the metadata sync told to stop (awaited before
    /// this replica promotes or follows another).
    private func leaderGone() async {
        guard case .follower(.some) = leadership.current else { return }
        leadership.set(.follower(leader: nil))
        slaveServices.beginStop()
        await replication.slave?.masterAddressChanged()
    }

    /// Follows `leader`: first the log is cut where this replica's epoch history and the master's diverge
    /// (`Rejoin`: durable truncation, then the master's history is adopted), then the HA link is pointed at the
    /// master. A master that has not yet recorded its epoch is asked again next round.
    private func follow(_ leader: LeaderRecord) async throws {
        if case let .follower(current) = leadership.current, current == leader { return }
        if leader.brokerId == election.brokerId {
            // Our own key from before a restart or a lost round: give it up rather than lead from a log we
            // did not promote.
            try await election.resign(leader)
            return
        }
        if leadership.isLeader { await stepDown(reason: "another replica is master (epoch \(leader.epoch))") }
        let master = try await replication.masterClient.epochCache(at: leader.addr)
        guard let newest = master.epochs.last, newest.epoch >= leader.epoch else {
            throw FollowError.masterEpochNotRecorded(leader.epoch, master.epochs)
        }
        // Nothing from the previous master is applied past this point: its link is closed (awaited) before the cut.
        if case .follower(.some) = leadership.current { leadership.set(.follower(leader: nil)) }
        await replication.slave?.masterAddressChanged()
        await slaveServices.stop()
        let rejoined = try Rejoin.truncateToDivergence(store: store, epochs: replication.epochs, masterEpochs: master.epochs)
        if rejoined.truncatedBytes > 0 {
            logger.notice("truncated to the divergence point", metadata: [
                "from": "\(rejoined.endBefore)", "to": "\(rejoined.endAfter)", "epoch": "\(leader.epoch)",
            ])
        }
        leadership.set(.follower(leader: leader))
        logger.info("following master", metadata: ["master": "\(leader.addr)", "ha": "\(leader.haAddr)", "epoch": "\(leader.epoch)"])
        await replication.slave?.masterAddressChanged()
        slaveServices.start()
        roleChanged()
    }

    enum FollowError: Error, CustomStringConvertible {
        case masterEpochNotRecorded(Int64, [EpochEntry])
        var description: String {
            switch self {
            case let .masterEpochNotRecorded(e, h): "master has not recorded epoch \(e) yet (history \(h))"
            }
        }
    }
}
