import NIOCore
import Testing
import TernSystem
@testable import TernCoordination

@Suite struct LeaderElectionTests {
    /// TTL 5 s by default: a winner's fence must still hold after a campaign on a loaded machine.
    private func replica(_ etcd: EtcdClient, _ id: Int, ttl: Int64 = 5, margin: Duration = .milliseconds(500),
                         clock: any TernClock = SystemClock()) -> LeaderElection {
        LeaderElection(etcd: etcd, keys: ElectionKeys(cluster: "C", brokerName: "b"), brokerId: id, ttlSeconds: ttl,
                       margin: margin, clock: clock)
    }

    /// Three concurrent campaigns: exactly one wins epoch 1 and the others see it; when the winner's lease
    /// goes, the next winner gets epoch 2.
    @Test func oneWinnerPerEpoch() async throws {
        try await withEtcd { _, etcd, _ in
            let replicas = (1...3).map { replica(etcd, $0) }
            let outcomes = try await withThrowingTaskGroup(of: LeaderElection.Outcome.self) { group in
                for r in replicas { group.addTask { try await r.campaign(addr: "a\(r.brokerId)", haAddr: "h\(r.brokerId)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.compactMap { if case let .won(record) = $0 { record } else { nil } }
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            #expect(winner.epoch == 1)
            for case let .lost(seen) in outcomes { #expect(seen == winner) }
            let holder = try #require(replicas.first { $0.brokerId == winner.brokerId })
            #expect(holder.fence.holds)
            #expect(try await holder.leader()?.lease == holder.leaseID)

            await holder.close()
            #expect(!holder.fence.holds)
            let next = try #require(replicas.first { $0.brokerId != winner.brokerId })
            #expect(try await next.campaign(addr: "n", haAddr: "nh") == .won(LeaderRecord(brokerId: next.brokerId, addr: "n",
                                                                                           haAddr: "nh", epoch: 2)))
        }
    }

    /// Only the current leader writes the in-sync set; statuses are listed while their leases live.
    @Test func syncSetWrittenOnlyByLeader() async throws {
        try await withEtcd { _, etcd, _ in
            let a = replica(etcd, 1), b = replica(etcd, 2)
            try await a.heartbeat(ReplicaStatus(brokerId: 1, addr: "a", haAddr: "ha", offset: 10, epoch: 0))
            try await b.heartbeat(ReplicaStatus(brokerId: 2, addr: "b", haAddr: "hb", offset: 20, epoch: 0))
            #expect(try await a.replicas().map(\.brokerId) == [1, 2])
            guard case let .won(record) = try await a.campaign(addr: "a", haAddr: "ha") else {
                Issue.record("the only contender lost")
                return
            }
            #expect(try await a.publish(SyncSet(epoch: 1, masterId: 1, members: [1, 2]), as: record))
            let forged = LeaderRecord(brokerId: 2, addr: "b", haAddr: "hb", epoch: 1)
            #expect(try await !b.publish(SyncSet(epoch: 1, masterId: 2, members: [2]), as: forged))
            #expect(try await b.syncSet()?.members == [1, 2])
            try await a.resign(record)
            #expect(try await b.leader() == nil)
            await b.close()
            #expect(try await a.replicas().map(\.brokerId) == [1])
        }
    }

    /// The fencing guarantee against a real etcd: a master that stops renewing (cut off) closes its fence
    /// strictly before a rival, campaigning every 20 ms, can win.
    @Test func fenceClosesBeforeARivalWins() async throws {
        try await withEtcd { _, etcd, _ in
            let master = replica(etcd, 1, ttl: 2, margin: .milliseconds(300)), rival = replica(etcd, 2, ttl: 2)
            guard case .won = try await master.campaign(addr: "a", haAddr: "ha") else {
                Issue.record("the only contender lost")
                return
            }
            let clock = SystemClock()
            var fenceClosed: UInt64?
            var rivalWon: UInt64?
            let deadline = clock.monotonicNanos() + 10_000_000_000
            while rivalWon == nil, clock.monotonicNanos() < deadline {
                if fenceClosed == nil, !master.fence.holds { fenceClosed = clock.monotonicNanos() }
                // Sample the fence right after the attempt too: a win must find it already closed.
                if case .won = try await rival.campaign(addr: "b", haAddr: "hb") {
                    rivalWon = clock.monotonicNanos()
                    #expect(!master.fence.holds)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let closed = try #require(fenceClosed), won = try #require(rivalWon)
            #expect(closed < won)
            print("fence closed \(Double(won - closed) / 1e6) ms before the rival won")
        }
    }
}
