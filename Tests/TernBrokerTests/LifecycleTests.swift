import Foundation
import Synchronization
import NIOCore
import NIOPosix
@testable import TernBroker
import TernMessage
import TernRemoting
import TernStorage
import TernSystem
import TernTransport
import Testing

/// The broker's services: started after recovery, stopped in order; internal consumers woken by dispatch
/// events and by the injected clock, never by a poll period.
@Suite struct LifecycleTests {
    /// Start order; graceful shutdown stops them in reverse.
    static let serviceOrder = ["store", "topics", "subscription-groups", "offset-writer", "schedule", "transaction-check",
                               "trace", "stats-log", "client-expiry", "registrar", "requests", "remoting-server"]

    @Test func servicesStartAfterRecoveryAndStopInReverseOrder() async throws {
        let f = try await BrokerFixture.start()
        let started = Set(Self.serviceOrder.map { "\($0) started" })
        #expect(await eventually { started.isSubset(of: Set(f.broker.events.all)) })
        await f.stop()
        let events = f.broker.events.all
        #expect(events.first == "store recovered")
        #expect(events.firstIndex(of: "store started").map { $0 > 0 } == true, "\(events)")
        let firstStop = try #require(events.firstIndex { $0.hasSuffix(" stopped") })
        #expect(Set(events[..<firstStop].filter { $0.hasSuffix(" started") }) == started, "\(events)")
        #expect(events.filter { $0.hasSuffix(" stopped") } == Self.serviceOrder.reversed().map { "\($0) stopped" })
    }

    /// Recovery (prepare) leaves the store's threads stopped; the store service (first in the list) starts them
    /// when run, and closes the store when it stops.
    @Test func storeThreadsStartWhenTheStoreServiceRunsNotAtRecovery() async throws {
        var config = BrokerConfig()
        config.storePathRootDir = NSTemporaryDirectory() + "tern-broker-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: config.storePathRootDir) }
        config.listenHost = "127.0.0.1"
        config.listenPort = 0
        config.mappedFileSizeCommitLog = 64 << 20
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let broker = try await Broker.prepare(config: config, group: group)
        #expect(broker.events.all == ["store recovered"])
        #expect(!broker.store.isStarted, "recovery started the store's threads")
        let storeService = try #require(broker.services.first as? StopService)
        #expect(storeService.description == "store")
        let run = Task { try await storeService.run() }
        #expect(await eventually { broker.events.all.contains("store started") })
        #expect(broker.store.isStarted)
        await broker.abandon()
        run.cancel()  // no group: cancellation ends the wait for graceful shutdown; closing twice is a no-op
        try await run.value
        #expect(broker.events.all == ["store recovered", "store started", "store stopped"])
        try await group.shutdownGracefully()
    }

    @Test func requestsAfterShutdownBeganAreRefusedNotLost() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        // Answered, so accepted: a connection still in the listen backlog would be reset by the listener's close.
        let before = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "T"), body: SendFrames.buffer("early"), on: c)
        #expect(before.code == ResponseCode.success)
        await f.broker.shutdown()
        let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "T"), body: SendFrames.buffer("late"), on: c)
        #expect(r.code == ResponseCode.systemBusy && r.remark == "broker is shutting down")
        c.close()
        await f.stop()
    }

    static func send(_ f: BrokerFixture, _ topic: String, _ body: String, delayLevel: Int) async throws {
        let fields = SendFrames.javaFields(topic: topic, properties: SendFrames.properties([("DELAY", String(delayLevel))]))
        let r = try await f.call(RequestCode.sendMessage, fields, body: SendFrames.buffer(body))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
    }

    static func bodies(_ f: BrokerFixture, _ topic: String) throws -> [String] {
        let entries = try f.broker.store.entries(QueueKey(topic: topic, queueId: 0), from: 0, maxCount: 100)
        return entries.compactMap { f.broker.store.message(at: $0.physicalOffset).map { String(decoding: $0.record.body, as: UTF8.self) } }
    }

    /// One level of an hour: only the ManualClock can make it due. After the clock moved (nobody told the
    /// service), the dispatch event of the next parked message wakes it and it delivers the first one.
    @Test func delayedMessageDueByTheClockIsDeliveredOnTheNextDispatchEvent() async throws {
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let f = try await BrokerFixture.start {
            $0.clock = clock
            $0.messageDelayLevelMillis = [3_600_000]
        }
        let parked = QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: 0)
        try await Self.send(f, "T", "first", delayLevel: 1)
        #expect(await eventually { (try? f.broker.store.queueRange(parked))??.max == 1 })
        #expect(try Self.bodies(f, "T").isEmpty)
        clock.advance(millis: 2 * 3_600_000)
        try await Self.send(f, "T", "second", delayLevel: 1)
        #expect(await eventually(timeoutMillis: 5_000) { (try? Self.bodies(f, "T"))?.first == "first" })
        // The second is due an hour after its store time (by the store's clock, which may be the real one:
        // then it was delivered with the first); a clock change, told this time, delivers it.
        clock.advance(millis: 2 * 3_600_000)
        f.broker.clockChanged()
        #expect(await eventually(timeoutMillis: 5_000) { (try? Self.bodies(f, "T")) == ["first", "second"] })
        await f.stop()
    }

    @Test func unimplementedKeysThatWouldWeakenSafetyStopStartup() throws {
        for (key, value) in [("brokerRole", "DLEDGER"),
                             ("enableDLegerCommitLog", "true")] {
            var c = BrokerConfig()
            #expect(throws: BrokerError.self, "\(key)=\(value)") { try c.apply(properties: "\(key)=\(value)\n") }
        }
        var c = BrokerConfig()
        let warnings = try c.apply(properties: "enableDLegerCommitLog=false\nbrokerRole=ASYNC_MASTER\ndeleteWhen=04\n")
        #expect(warnings.count == 1)  // enableDLegerCommitLog=false: accepted without effect; brokerRole is implemented
        #expect(BrokerConfig().listenHost == "127.0.0.1")
    }
}

/// The broker's one model of background work, driven by a ManualClock: a step per wake-up or due time.
@Suite struct TimerServiceTests {
    @Test func periodicServiceRunsOncePerPeriodOfItsClock() async throws {
        let clock = ManualClock()
        let runs = Atomic<Int>(0)
        let service = TimerService.periodic(name: "tick", clock: clock, periodMillis: 1_000) { runs.add(1, ordering: .relaxed) }
        let task = Task { try await service.run() }
        func step(_ n: Int) async -> Bool { await eventually { service.stepsCompleted.load(ordering: .acquiring) == n } }
        #expect(await step(1))
        #expect(runs.load(ordering: .relaxed) == 0)
        clock.advance(millis: 999)
        service.wake()
        #expect(await step(2))
        #expect(runs.load(ordering: .relaxed) == 0, "ran before its period")
        clock.advance(millis: 1)
        service.wake()
        #expect(await step(3))
        #expect(runs.load(ordering: .relaxed) == 1)
        // Wake-ups in between do not run it again; the next period does.
        service.wake()
        #expect(await step(4))
        #expect(runs.load(ordering: .relaxed) == 1)
        clock.advance(millis: 1_000)
        service.wake()
        #expect(await step(5))
        #expect(runs.load(ordering: .relaxed) == 2)
        task.cancel()
        try await task.value
    }
}
