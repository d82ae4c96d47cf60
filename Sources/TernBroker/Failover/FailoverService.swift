import Logging
import ServiceLifecycle
import TernCoordination
import TernStorage

/// Controller mode (`enableControllerMode=true`, `etcdEndpoints`): the replicas of a `brokerName` elect their
/// master through etcd (RocketMQ 5's controller role, without a controller process).
///
/// Every `tick` (a sixth of the lease TTL: a dead master's successor waits for the TTL plus about two ticks) each replica renews its lease and publishes its log end
/// (`ReplicaStatus`). Then:
/// - master: checks it still holds the leader key and its fence, publishes the in-sync set (replicas within
///   `haMaxGapNotInSync` bytes); anything else steps it down;
/// - slave with a master: follows it (after cutting its log to the divergence point when the epoch moved);
/// - slave without a master: after one more tick (so every live replica has published a fresh offset),
///   contends if `ElectionRule` names it (an in-sync member with the longest log), and on winning promotes its
///   store, serves HA and re-registers as brokerId 0.
/// A graceful shutdown revokes the lease: the leader key goes at once and the next master is elected within a
/// tick or two instead of a TTL.
final class FailoverService: Service, Sendable {
    let election: LeaderElection
    let leadership: Leadership
    private let store: MessageStore
    private let addr: String
    private let haAddr: String
    private let maxGap: Int64
    private let tick: Duration
    private let roleChanged: @Sendable () -> Void
    private let logger: Logger

    init(election: LeaderElection, leadership: Leadership, store: MessageStore, addr: String, haAddr: String,
         maxGap: Int64, roleChanged: @escaping @Sendable () -> Void, logger: Logger) {
        self.election = election
        self.leadership = leadership
        self.store = store
        self.addr = addr
        self.haAddr = haAddr
        self.maxGap = maxGap
        self.tick = .milliseconds(max(100, election.ttlSeconds * 1000 / 6))
        self.roleChanged = roleChanged
        var logger = logger
        logger[metadataKey: "failover.group"] = "\(election.keys.prefix)"
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var leaderlessTicks = 0
            while !Task.isCancelled {
                do {
                    self.leadership.restored(epoch: try await self.election.recordedEpoch())
                    break
                } catch {
                    self.logger.warning("cannot read this replica's epoch from etcd", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: self.tick)
                }
            }
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
                                       offset: store.replicationOffset, epoch: leadership.epoch)
            try await election.heartbeat(status)
            if case let .leader(record) = leadership.current {
                guard election.fence.holds, try await election.stillLeader(record) else {
                    stepDown(reason: "lost the leader key or the lease")
                    return 0
                }
                let replicas = try await election.replicas()
                let members = ElectionRule.inSync(masterId: election.brokerId, masterOffset: store.maxPhysicalOffset,
                                                  replicas: replicas, maxGap: maxGap)
                let set = SyncSet(epoch: record.epoch, masterId: record.brokerId, members: members)
                if try await election.syncSet() != set { try await election.publish(set, as: record) }
                try await handOverIfAsked(record, replicas: replicas, members: members)
                return 0
            }
            if let (leader, _) = try await election.leader() {
                try await follow(leader)
                return 0
            }
            leaderGone()
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
            switch try await election.campaign(addr: addr, haAddr: haAddr, startOffset: store.maxPhysicalOffset) {
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
            if leadership.isLeader, !election.fence.holds { stepDown(reason: "lease fence closed") }
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
        stepDown(reason: "handed over to broker \(target)")
    }

    private func becomeLeader(_ record: LeaderRecord) async throws {
        try await election.recordEpoch(record.epoch)
        try store.promote()
        leadership.set(.leader(record))
        logger.notice("elected master", metadata: [
            "epoch": "\(record.epoch)", "offset": "\(store.maxPhysicalOffset)", "fence.ms": "\(election.fence.remainingNanos / 1_000_000)",
        ])
        roleChanged()
    }

    private func stepDown(reason: String) {
        election.fence.drop()
        guard case .leader = leadership.current else { return }
        try? store.demote()
        leadership.set(.follower(leader: nil))
        logger.warning("stepped down", metadata: ["reason": "\(reason)"])
        roleChanged()
    }

    private func leaderGone() {
        if case .follower(.some) = leadership.current { leadership.set(.follower(leader: nil)) }
    }

    /// Follows `leader`: the first time in a new epoch, the log is cut to where this replica's history and
    /// the new master's diverge (see ``divergence(for:)``), then the HA link is pointed at the master.
    private func follow(_ leader: LeaderRecord) async throws {
        if case let .follower(current) = leadership.current, current == leader { return }
        if leader.brokerId == election.brokerId {
            // Our own key from before a restart or a lost round: give it up rather than lead from a log we
            // did not promote.
            try await election.resign(leader)
            return
        }
        if leadership.isLeader { stepDown(reason: "another replica is master (epoch \(leader.epoch))") }
        let cut = try await divergence(for: leader)
        if let cut, cut < store.replicationOffset {
            logger.notice("truncating to the divergence point", metadata: [
                "from": "\(store.replicationOffset)", "to": "\(cut)", "epoch": "\(leader.epoch)",
            ])
            try store.truncate(to: cut)
        }
        try await election.recordEpoch(leader.epoch)
        leadership.set(.follower(leader: leader))
        logger.info("following master", metadata: ["master": "\(leader.addr)", "ha": "\(leader.haAddr)", "epoch": "\(leader.epoch)"])
        roleChanged()
    }

    /// Where this replica's log stops being the new master's: the start of the first epoch after the last
    /// one whose bytes this replica took (recorded in etcd before taking any). Its log is a prefix of that
    /// epoch's master's log (cut the same way when it began following), and every later master's log holds
    /// that master's log up to the next epoch's start. nil: nothing to cut.
    // TODO(epochs): when EpochStore + Rejoin land, take the replica's epoch from its durable epoch file and
    // the divergence from Rejoin (this keeps the history in etcd only).
    private func divergence(for leader: LeaderRecord) async throws(EtcdError) -> Int64? {
        let known = leadership.epoch
        guard leader.epoch > known else { return nil }
        let starts = try await election.epochStarts()
        return starts.filter { $0.epoch > known && $0.epoch <= leader.epoch }.map(\.startOffset).min()
    }
}
