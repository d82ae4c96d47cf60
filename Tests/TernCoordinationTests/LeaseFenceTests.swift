import Testing
import TernSystem
@testable import TernCoordination

@Suite struct LeaseFenceTests {
    /// TTL 3 s, margin 1 s: a renewal sent at t holds until t + 2 s exactly, measured from the SEND time, so a
    /// slow answer eats into the window instead of extending it.
    @Test func closesMarginBeforeTheLeaseCanExpire() {
        let clock = ManualClock()
        let fence = LeaseFence(clock: clock, margin: .seconds(1))
        #expect(!fence.holds)
        let sent = clock.monotonicNanos()
        clock.advance(millis: 400)  // the keep-alive's round trip
        fence.renewed(sentAt: sent, ttlSeconds: 3)
        clock.advance(millis: 1_599)
        #expect(fence.holds)
        #expect(fence.remainingNanos == 1_000_000)
        clock.advance(millis: 1)
        #expect(!fence.holds)
        // A late answer to an older request never moves the fence back.
        fence.renewed(sentAt: clock.monotonicNanos(), ttlSeconds: 3)
        fence.renewed(sentAt: sent, ttlSeconds: 3)
        clock.advance(millis: 1_999)
        #expect(fence.holds)
        fence.drop()
        #expect(!fence.holds)
    }

    /// A TTL not above the margin gives no window at all.
    @Test func ttlWithinMarginNeverHolds() {
        let clock = ManualClock()
        let fence = LeaseFence(clock: clock, margin: .seconds(2))
        fence.renewed(sentAt: clock.monotonicNanos(), ttlSeconds: 2)
        #expect(!fence.holds)
    }
}

@Suite struct ElectionRuleTests {
    private func status(_ id: Int, _ offset: Int64) -> ReplicaStatus {
        ReplicaStatus(brokerId: id, addr: "a\(id)", haAddr: "h\(id)", offset: offset, epoch: 1)
    }

    @Test func longestEligibleLogContends() {
        let replicas = [status(1, 500), status(2, 900), status(3, 900)]
        // No set published yet (first election): everyone is eligible; ties go to the lowest id.
        #expect(ElectionRule.shouldContend(me: 2, replicas: replicas, syncSet: nil))
        #expect(!ElectionRule.shouldContend(me: 3, replicas: replicas, syncSet: nil))
        #expect(!ElectionRule.shouldContend(me: 1, replicas: replicas, syncSet: nil))
        // 2 fell out of the set: 3 is the best eligible; 1 is behind; an outsider never contends.
        let set = SyncSet(epoch: 4, masterId: 0, members: [0, 1, 3])
        #expect(ElectionRule.shouldContend(me: 3, replicas: replicas, syncSet: set))
        #expect(!ElectionRule.shouldContend(me: 2, replicas: replicas, syncSet: set))
        // A planned switch names the only contender while it is alive and eligible; otherwise the rule stands.
        #expect(ElectionRule.shouldContend(me: 1, replicas: replicas, syncSet: set, handover: 1))
        #expect(!ElectionRule.shouldContend(me: 3, replicas: replicas, syncSet: set, handover: 1))
        #expect(ElectionRule.shouldContend(me: 3, replicas: replicas, syncSet: set, handover: 2))
        // No eligible replica alive: nobody contends (the group stays without a master).
        #expect(!ElectionRule.shouldContend(me: 2, replicas: [status(2, 900)], syncSet: set))
    }

    /// Members are the replicas whose HA link the master's acknowledgements keep in sync, whatever offset they
    /// report themselves.
    @Test func inSyncSetByLink() {
        var linked = status(1, 100), unlinked = status(2, 1_000), other = status(3, 1_000)
        linked.link = "[IPv4]127.0.0.1/127.0.0.1:40001"
        other.link = "[IPv4]127.0.0.1/127.0.0.1:40003"
        let replicas = [status(0, 1_000), linked, unlinked, other]
        #expect(ElectionRule.inSync(masterId: 0, replicas: replicas, linksInSync: [linked.link!]) == [0, 1])
        #expect(ElectionRule.inSync(masterId: 0, replicas: replicas, linksInSync: [linked.link!, other.link!]) == [0, 1, 3])
        #expect(ElectionRule.inSync(masterId: 0, replicas: replicas, linksInSync: []) == [0])
    }
}
