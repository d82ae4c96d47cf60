import Foundation
import NIOCore
import NIOPosix
@testable import TernBroker
import TernCoordination
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import Testing

/// Controller mode against a real etcd (EtcdProcess is TernCoordinationTests' file, linked) and a `ManualClock`:
/// the master's own timers start on promotion, run when the clock moves (`Broker.clockChanged()` reaches them
/// as it reaches the fixed timers), stop, awaited, on demotion, and fresh ones start on the next promotion.
@Suite(.serialized, .enabled(if: EtcdProcess.binary() != nil, "etcd not installed (tools/setup)"))
struct FailoverRoleTimerTests {
    @Test func roleTimersFollowPromotionDemotionAndTheManualClock() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let etcd = try await EtcdProcess.start(group: group)
        defer { etcd.stop() }
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let f = try await BrokerFixture.start {
            $0.enableControllerMode = true
            $0.etcdEndpoints = [etcd.endpoint]
            $0.brokerId = 1
            $0.clock = clock
            $0.messageDelayLevelMillis = [1_000]
        }
        let failover = try #require(f.broker.services.lazy.compactMap { $0 as? FailoverService }.first)
        let started = { f.broker.events.all.filter { $0 == "schedule started" }.count }

        // A replica alone is elected (a tick or two); its schedule timer runs from then on.
        #expect(await eventually(timeoutMillis: 20_000) { failover.leadership.isLeader && f.broker.timer(named: "schedule") != nil })
        try await Self.sendDelayed(f, "first")
        try await f.advance(clock, millis: 0, runningTimer: "schedule")
        #expect(try Self.delivered(f) == 0, "delivered before the clock moved")
        try await f.advance(clock, millis: 1_000, runningTimer: "schedule")
        #expect(await eventually(timeoutMillis: 5_000) { (try? Self.delivered(f)) == 1 })

        // Demotion (the leader key is gone): the timers are stopped, and awaited, before the next promotion
        // starts fresh ones.
        let etcdClient = EtcdClient(endpoints: [etcd.endpoint], group: group)
        _ = try await etcdClient.delete(failover.election.keys.leader)
        #expect(await eventually(timeoutMillis: 20_000) { failover.masterServices.starts == 2 && started() == 2 })
        let events = f.broker.events.all
        let stopped = try #require(events.firstIndex(of: "schedule stopped"))
        let restarted = try #require(events.lastIndex(of: "schedule started"))
        #expect(stopped < restarted)
        #expect(events.filter { $0 == "transaction-check stopped" }.count == 1)

        // The new master's timer follows the clock as the first one did.
        #expect(await eventually(timeoutMillis: 5_000) { failover.leadership.acknowledges })
        try await Self.sendDelayed(f, "second")
        try await f.advance(clock, millis: 0, runningTimer: "schedule")
        try await f.advance(clock, millis: 1_000, runningTimer: "schedule")
        #expect(await eventually(timeoutMillis: 5_000) { (try? Self.delivered(f)) == 2 })
        await f.stop()
        try await group.shutdownGracefully()
    }

    private static func sendDelayed(_ f: BrokerFixture, _ body: String) async throws {
        let fields = SendFrames.javaFields(topic: "T", properties: SendFrames.properties([("DELAY", "1")]))
        let r = try await f.call(RequestCode.sendMessage, fields, body: SendFrames.buffer(body))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
    }

    /// Records delivered to the real topic's queue 0.
    private static func delivered(_ f: BrokerFixture) throws -> Int {
        let store = f.broker.store
        _ = store.waitUntilDispatched(store.maxPhysicalOffset)
        return try store.entries(QueueKey(topic: "T", queueId: 0), from: 0, maxCount: 10).count
    }
}
