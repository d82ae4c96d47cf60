import NIOCore
import NIOPosix
import Testing
@testable import TernReplication

/// SYNC_MASTER's wait: group-committed releases, slave availability, timeout, allAckInSyncStateSet.
@Suite struct ReplicationAcksTests {
    let loop = MultiThreadedEventLoopGroup.singleton.any()

    static func policy(allAck: Bool = false, fallbehindMax: Int64 = 1 << 20, gap: Int64 = 1 << 20,
                       timeout: Duration = .seconds(30)) -> AckPolicy {
        var p = AckPolicy()
        p.allAckInSyncStateSet = allAck
        p.fallbehindMax = fallbehindMax
        p.maxGapNotInSync = gap
        p.timeout = timeout
        return p
    }

    @Test func noSlaveIsNotAvailable() async {
        let acks = ReplicationAcks(policy: Self.policy())
        #expect(await acks.waitForAck(100, masterEnd: 100, on: loop) == .slaveNotAvailable)
    }

    @Test func slaveTooFarBehindIsNotAvailable() async {
        let acks = ReplicationAcks(policy: Self.policy(fallbehindMax: 1_000))
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 10, masterEnd: 10)
        #expect(await acks.waitForAck(5_000, masterEnd: 5_000, on: loop) == .slaveNotAvailable)
    }

    /// One report releases every waiter at or below it; a waiter above it stays until a later report.
    @Test func oneAckReleasesEveryWaiterBelow() async {
        let acks = ReplicationAcks(policy: Self.policy())
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0, masterEnd: 0)
        async let low = acks.waitForAck(100, masterEnd: 300, on: loop)
        async let mid = acks.waitForAck(200, masterEnd: 300, on: loop)
        async let high = acks.waitForAck(300, masterEnd: 300, on: loop)
        #expect(await eventually { acks.waitingCount == 3 })
        acks.acknowledged(link: 1, offset: 200, masterEnd: 300)
        #expect(await low == .acked)
        #expect(await mid == .acked)
        #expect(acks.waitingCount == 1)
        acks.connected(link: 2, peer: "b")
        acks.acknowledged(link: 2, offset: 300, masterEnd: 300)
        #expect(await high == .acked)
    }

    @Test func noAckTimesOut() async {
        let acks = ReplicationAcks(policy: Self.policy(timeout: .milliseconds(50)))
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0, masterEnd: 0)
        #expect(await acks.waitForAck(100, masterEnd: 100, on: loop) == .timeout)
        #expect(acks.waitingCount == 0)
    }

    /// allAckInSyncStateSet with the set = {master}: acknowledged at once, with or without connected slaves
    /// that are not members.
    @Test func allAckWithMasterOnlySetAcksAtOnce() async {
        let acks = ReplicationAcks(policy: Self.policy(allAck: true, gap: 100))
        #expect(await acks.waitForAck(100, masterEnd: 100, on: loop) == .acked)
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0, masterEnd: 5_000)  // behind: never joined
        #expect(acks.inSync.replicas.isEmpty)
        #expect(await acks.waitForAck(5_000, masterEnd: 5_000, on: loop) == .acked)
    }

    /// allAckInSyncStateSet: a send waits for every member; the slowest member's ack releases it, and a
    /// member leaving releases what only it held back.
    @Test func allAckWaitsForEveryMember() async {
        let acks = ReplicationAcks(policy: Self.policy(allAck: true))
        for link in [1, 2] {
            acks.connected(link: link, peer: "p\(link)")
            acks.acknowledged(link: link, offset: 100, masterEnd: 100)
        }
        #expect(acks.inSync.replicas.map(\.link) == [1, 2])
        async let first = acks.waitForAck(200, masterEnd: 300, on: loop)
        async let second = acks.waitForAck(300, masterEnd: 300, on: loop)
        #expect(await eventually { acks.waitingCount == 2 })
        acks.acknowledged(link: 1, offset: 300, masterEnd: 300)
        #expect(acks.waitingCount == 2)
        acks.acknowledged(link: 2, offset: 200, masterEnd: 300)
        #expect(await first == .acked)
        #expect(acks.waitingCount == 1)
        acks.disconnected(link: 2)
        #expect(await second == .acked)
        #expect(acks.inSync.replicas.map(\.link) == [1])
    }

    /// Membership: join on catch-up, leave beyond the gap or on disconnect; the change stream reports each
    /// membership change.
    @Test func inSyncSetShrinksAndExpands() async {
        let acks = ReplicationAcks(policy: Self.policy(gap: 1_000))
        var changes = acks.inSyncChanges().makeAsyncIterator()
        #expect(await changes.next()?.replicas.isEmpty == true)
        acks.connected(link: 7, peer: "10.0.0.7:5000")
        acks.acknowledged(link: 7, offset: 0, masterEnd: 5_000)  // far behind: not a member
        #expect(acks.inSync.replicas.isEmpty)
        acks.acknowledged(link: 7, offset: 4_000, masterEnd: 6_000)  // still below the master's previous end
        #expect(acks.inSync.replicas.isEmpty)
        acks.acknowledged(link: 7, offset: 6_000, masterEnd: 6_500)  // reached it: joins
        #expect(await changes.next()?.replicas.map(\.peer) == ["10.0.0.7:5000"])
        acks.check(masterEnd: 7_000)  // 1,000 behind: within the gap
        #expect(acks.inSync.replicas.count == 1)
        acks.check(masterEnd: 7_001)
        #expect(await changes.next()?.replicas.isEmpty == true)
        acks.acknowledged(link: 7, offset: 7_001, masterEnd: 7_001)
        #expect(await changes.next()?.replicas.map(\.acked) == [7_001])
        acks.disconnected(link: 7)
        #expect(await changes.next()?.replicas.isEmpty == true)
    }

    /// One sweep serves every timeout: a waiter released early does not end the sweep for the one after it,
    /// and a waiter arriving after the sweep went idle gets a new one.
    @Test func timeoutsSurviveReleasesAndIdleSweeps() async {
        let acks = ReplicationAcks(policy: Self.policy(timeout: .seconds(1)))
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0, masterEnd: 0)
        async let released = acks.waitForAck(100, masterEnd: 300, on: loop)
        #expect(await eventually { acks.waitingCount == 1 })
        async let expires = acks.waitForAck(200, masterEnd: 300, on: loop)
        #expect(await eventually { acks.waitingCount == 2 })
        acks.acknowledged(link: 1, offset: 100, masterEnd: 300)
        #expect(await released == .acked)
        #expect(await expires == .timeout)
        #expect(acks.waitingCount == 0)
        #expect(await acks.waitForAck(300, masterEnd: 300, on: loop) == .timeout)
    }

    /// Each callback runs on its waiter's event loop (its connection's), whichever thread reported the ack.
    @Test func releasedOnEachWaitersLoop() async {
        let acks = ReplicationAcks(policy: Self.policy())
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0, masterEnd: 0)
        let loops = [MultiThreadedEventLoopGroup.singleton.next(), MultiThreadedEventLoopGroup.singleton.next()]
        let onLoop = await withTaskGroup(of: Bool.self) { group in
            for (i, l) in loops.enumerated() {
                group.addTask {
                    await withCheckedContinuation { c in
                        acks.whenAcked(Int64(100 + i), masterEnd: 200, on: l) { outcome in
                            c.resume(returning: outcome == .acked && l.inEventLoop)
                        }
                    }
                }
            }
            _ = await eventually { acks.waitingCount == loops.count }
            acks.acknowledged(link: 1, offset: 200, masterEnd: 200)
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(onLoop)
    }
}
