import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

@Suite struct TokenBucketTests {
    @Test func bucketRefusesWhenEmptyAndTheBreakerHoldsItsWindow() {
        var b = TokenBucket(rate: 3, now: 0)
        let ms: UInt64 = 1_000_000
        #expect((0..<3).map { _ in b.acquire(0, breakerNanos: 500 * ms) } == [.admitted, .admitted, .admitted])
        #expect(b.acquire(1 * ms, breakerNanos: 500 * ms) == .limited)
        // Refilled tokens do not help while the breaker is open.
        #expect(b.acquire(400 * ms, breakerNanos: 500 * ms) == .breakerOpen(101 * ms))
        #expect(b.acquire(502 * ms, breakerNanos: 500 * ms) == .admitted)
    }

    @Test func debtIsPaidOverTime() {
        var b = TokenBucket(rate: 10, now: 0)
        b.charge(15, 0)  // 10 tokens - 15 = -5: 0.6 s until one token is back
        #expect(b.debtNanos(0) == 600_000_000)
        #expect(b.debtNanos(600_000_000) == 0)
        b.charge(1000, 600_000_000)  // debt is capped at one second's worth
        #expect(b.debtNanos(600_000_000) == 1_100_000_000)
    }

    @Test func configKeys() throws {
        var c = BrokerConfig()
        let text = """
        waitTimeMillsInSendQueue=300
        brokerFastFailureEnable=false
        defaultTopicRateLimit=50
        topicRateLimit.Hot=5.5
        sendBackRateLimit=20
        sendBackRateLimit.G1=2
        groupPullRateLimit.G2=100
        dedupWindowSeconds.Orders=600
        rateLimitBreakerMillis=250
        sendBackQueueCapacity=64
        """
        #expect(try c.apply(properties: text).isEmpty)
        #expect(c.flow.waitTimeMillsInSendQueue == 300 && !c.flow.brokerFastFailureEnable)
        #expect(c.flow.defaultTopicRateLimit == 50 && c.flow.topicRateLimits == ["Hot": 5.5])
        #expect(c.flow.sendBackRateLimit == 20 && c.flow.groupSendBackRateLimits == ["G1": 2])
        #expect(c.flow.groupPullRateLimits == ["G2": 100] && c.flow.dedupWindowSeconds == ["Orders": 600])
        #expect(c.flow.rateLimitBreakerMillis == 250 && c.flow.sendBackQueueCapacity == 64)
        #expect(throws: BrokerError.self) { try c.apply(properties: "sendBackQueueCapacity=0") }
        #expect(throws: BrokerError.self) { try c.apply(properties: "topicRateLimit.X=-1") }
        #expect(throws: BrokerError.self) { try c.apply(properties: "topicRateLimit.=3") }
    }
}

/// Raw SEND_MESSAGE_V2 frames and store counts for the flow tests.
extension BrokerFixture {
    func send(_ topic: String, uniqueKey: String = UUID().uuidString, on c: RemotingConnection) async throws -> RemotingCommand {
        let props = SendFrames.properties([("UNIQ_KEY", uniqueKey), ("WAIT", "true")])
        return try await c.request(sendCommand(topic, props), timeout: .seconds(10))
    }

    func sendCommand(_ topic: String, _ props: String = "") -> RemotingCommand {
        RemotingCommand(code: RequestCode.sendMessageV2, language: .cpp, version: 64,
                        extFields: SendFrames.shortFields(topic: topic, queueId: 0, properties: props), body: ByteBuffer(string: "x"))
    }

    /// Messages indexed in `topic` (all queues), once the dispatcher caught up.
    func storedCount(_ topic: String) throws -> Int64 {
        #expect(broker.store.waitUntilDispatched(broker.store.maxPhysicalOffset))
        return try broker.store.queues().filter { $0.key.topic == topic }.values.reduce(0) { $0 + $1.max }
    }
}

@Suite(.serialized) struct FlowControlTests {
    @Test func rateLimitedSendsAreRefusedQuicklyAndNeverStored() async throws {
        let f = try await BrokerFixture.start { c in
            c.flow.topicRateLimits = ["Hot": 5]
            c.flow.rateLimitBreakerMillis = 1_500
        }
        let c = try await f.connect()
        // Pipelined, so all 20 arrive within milliseconds whatever the machine's load.
        let futures = (0..<20).map { _ in c.request(f.sendCommand("Hot"), timeout: .seconds(10)) }
        var ok = 0, busy = 0
        for fut in futures {
            let r = try await fut.get()
            if r.code == ResponseCode.success { ok += 1; continue }
            #expect(r.code == ResponseCode.systemBusy)
            #expect(r.remark?.contains("RateLimit") == true && r.remark?.contains("Hot") == true, "\(r.remark ?? "")")
            busy += 1
        }
        #expect(ok >= 5 && ok <= 7, "burst of one second's tokens, got \(ok)")
        #expect(busy == 20 - ok)
        // While the breaker is open a send is refused before any store work (the stored count below proves it).
        let refused = try await f.send("Hot", on: c)
        #expect(refused.code == ResponseCode.systemBusy && refused.remark?.contains("circuit breaker open") == true)
        // Another topic is not limited.
        #expect(try await f.send("Cold", on: c).code == ResponseCode.success)
        #expect(try f.storedCount("Hot") == Int64(ok))

        // After the breaker's window, sends pass again.
        try await Task.sleep(for: .milliseconds(1_700))
        #expect(try await f.send("Hot", on: c).code == ResponseCode.success)
        #expect(try f.storedCount("Hot") == Int64(ok + 1))
        await f.stop()
    }

    @Test func limitsChangeAtRuntimeThroughTheAdminCodeAndSurviveRestart() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        for _ in 0..<5 { #expect(try await f.send("T", on: c).code == ResponseCode.success) }
        var set = try await f.call(FlowRequestCode.setFlowLimit, ["kind": "topicRate", "name": "T", "value": "2"], on: c)
        #expect(set.code == ResponseCode.success, "\(set.remark ?? "")")
        let codes = try await (0..<5).asyncMap { _ in try await f.send("T", on: c).code }
        #expect(codes.filter { $0 == ResponseCode.success }.count == 2)
        #expect(codes.filter { $0 == ResponseCode.systemBusy }.count == 3)

        set = try await f.call(FlowRequestCode.setFlowLimit, ["kind": "topicRate", "value": "2"], on: c)
        #expect(set.code == ResponseCode.systemError, "a named kind without a name is refused")
        set = try await f.call(FlowRequestCode.setFlowLimit, ["kind": "dedupWindow", "name": "D", "value": "60"], on: c)
        #expect(set.code == ResponseCode.success)

        let limits = try JSONBody.decode(FlowLimitsBody.self, from: try await f.call(FlowRequestCode.getFlowLimits, on: c).body)
        #expect(limits.topicRateLimits == ["T": 2] && limits.dedupWindowSeconds == ["D": 60])
        #expect(limits.rateLimited >= 3)

        c.close()
        await f.broker.shutdown()
        try? await f.group.shutdownGracefully()
        let g = try await BrokerFixture.start(storeDir: f.storeDir)
        let after = try JSONBody.decode(FlowLimitsBody.self, from: try await g.call(FlowRequestCode.getFlowLimits).body)
        #expect(after.topicRateLimits == ["T": 2] && after.dedupWindowSeconds == ["D": 60])
        // Lifting the limit (0) makes the topic unlimited again.
        _ = try await g.call(FlowRequestCode.setFlowLimit, ["kind": "topicRate", "name": "T", "value": "0"])
        let c2 = try await g.connect()
        for _ in 0..<10 { #expect(try await g.send("T", on: c2).code == ResponseCode.success) }
        await g.stop()
    }

    @Test func sendsThatWaitedTooLongFailFastAndTheBrokerRecovers() async throws {
        let f = try await BrokerFixture.start { c in c.flow.waitTimeMillsInSendQueue = 100 }
        let c = try await f.connect()
        f.broker.context.flow.simulatedSendDelayMillis.store(60, ordering: .relaxed)
        // Pipelined: the frames queue behind each other on the connection while each send takes 60 ms.
        let futures = (0..<12).map { i in
            c.request(f.sendCommand("Slow", SendFrames.properties([("UNIQ_KEY", "k\(i)")])), timeout: .seconds(20))
        }
        var ok = 0, busy = 0
        for fut in futures {
            let r = try await fut.get()
            if r.code == ResponseCode.success { ok += 1; continue }
            #expect(r.code == ResponseCode.systemBusy)
            #expect(r.remark?.hasPrefix("[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: ") == true,
                    "\(r.remark ?? "")")
            busy += 1
        }
        #expect(ok >= 1 && busy >= 4, "ok \(ok) busy \(busy)")
        #expect(try f.storedCount("Slow") == Int64(ok))

        f.broker.context.flow.simulatedSendDelayMillis.store(0, ordering: .relaxed)
        let again = (0..<12).map { _ in c.request(f.sendCommand("Slow"), timeout: .seconds(20)) }
        for fut in again { #expect(try await fut.get().code == ResponseCode.success) }
        #expect(try f.storedCount("Slow") == Int64(ok + 12))
        await f.stop()
    }

    @Test func dedupWindowAnswersTheFirstCopyAndSurvivesRestart() async throws {
        let f = try await BrokerFixture.start { c in c.flow.dedupWindowSeconds = ["D": 600, "Short": 1] }
        let c = try await f.connect()
        let first = try await f.send("D", uniqueKey: "K1", on: c)
        #expect(first.code == ResponseCode.success)
        let second = try await f.send("D", uniqueKey: "K1", on: c)
        #expect(second.code == ResponseCode.success)
        #expect(second.extFields["msgId"] == first.extFields["msgId"])
        #expect(second.extFields["queueOffset"] == first.extFields["queueOffset"])
        #expect(second.extFields["queueId"] == first.extFields["queueId"])
        #expect(try await f.send("D", uniqueKey: "K2", on: c).extFields["queueOffset"] == "1")
        // Same key, topic without a window: stored.
        #expect(try await f.send("Other", uniqueKey: "K1", on: c).code == ResponseCode.success)
        #expect(try f.storedCount("D") == 2 && f.storedCount("Other") == 1)

        // Outside the window: stored again.
        _ = try await f.send("Short", uniqueKey: "S", on: c)
        try await Task.sleep(for: .milliseconds(1_200))
        let late = try await f.send("Short", uniqueKey: "S", on: c)
        #expect(late.extFields["queueOffset"] == "1")
        #expect(try f.storedCount("Short") == 2)

        // After a restart the window comes from the unique-key index.
        c.close()
        await f.broker.shutdown()
        try? await f.group.shutdownGracefully()
        let g = try await BrokerFixture.start(storeDir: f.storeDir) { c in c.flow.dedupWindowSeconds = ["D": 600] }
        let c2 = try await g.connect()
        let replay = try await g.send("D", uniqueKey: "K1", on: c2)
        // The id names the first copy: same offset, and the store host it was written under (the port changed).
        #expect(replay.extFields["msgId"] == first.extFields["msgId"])
        #expect(replay.extFields["queueOffset"] == "0")
        #expect(try g.storedCount("D") == 2)
        #expect(g.broker.context.flow.duplicatesAnswered.load(ordering: .relaxed) == 1)
        await g.stop()
    }

    @Test func concurrentCopiesAreStoredOnce() async throws {
        let f = try await BrokerFixture.start { c in c.flow.dedupWindowSeconds = ["D": 600] }
        let conns = try await (0..<4).asyncMap { _ in try await f.connect() }
        let futures = (0..<40).map { i in
            conns[i % 4].request(f.sendCommand("D", SendFrames.properties([("UNIQ_KEY", "K\(i % 5)")])), timeout: .seconds(10))
        }
        var ids: [String: Set<String>] = [:]
        for (i, fut) in futures.enumerated() {
            let r = try await fut.get()
            #expect(r.code == ResponseCode.success)
            ids["K\(i % 5)", default: []].insert(r.extFields["msgId"] ?? "")
        }
        #expect(ids.values.allSatisfy { $0.count == 1 })
        #expect(try f.storedCount("D") == 5)
        await f.stop()
    }

    @Test func statsCountPutsAndGetsAndWriteTheStatsLog() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        try f.createTopic("S", queues: 1)
        for _ in 0..<3 { #expect(try await f.send("S", on: c).code == ResponseCode.success) }
        // A send is answered before the dispatcher indexes it: pull once all three are visible.
        #expect(f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset))
        let pulled = try await f.pull("S", offset: 0, group: "G")
        #expect(decodeRecords(pulled.body).count == 3)

        var stats = try await f.call(202, ["topic": "S"], on: c)
        #expect(stats.extFields.int64("putTotal") == 3)
        #expect(stats.extFields.int64("putLastPeriod") == 0)
        var consume = try await f.call(208, ["consumerGroup": "G", "topic": "S"], on: c)
        #expect(consume.extFields.int64("getTotal") == 3)

        f.broker.context.flow.rollStats()
        stats = try await f.call(202, ["topic": "S"], on: c)
        #expect(stats.extFields.int64("putLastPeriod") == 3)
        #expect(stats.extFields["putTps"] == "0.05")
        consume = try await f.call(208, ["consumerGroup": "G", "topic": "S"], on: c)
        let body = try ConsumeStatsBody.decode(from: consume.body)
        #expect(abs(body.consumeTps - 0.05) < 1e-9)
        let log = try String(contentsOfFile: f.storeDir + "/logs/stats.log", encoding: .utf8)
        #expect(log.contains("PUT topic=S total=3 period=3 tps=0.05"), "\(log)")
        #expect(log.contains("GET group=G topic=S total=3 period=3 tps=0.05"), "\(log)")
        await f.stop()
    }

    @Test func groupPullLimitDelaysAnswersInsteadOfFailingThem() async throws {
        let f = try await BrokerFixture.start { c in c.flow.groupPullRateLimits = ["Slow": 20] }
        try f.createTopic("P", queues: 1)
        for i in 0..<60 { try f.put("P", body: "m\(i)") }
        let c = try await f.connect()
        var r = try await f.pull("P", offset: 0, group: "Slow", on: c)
        #expect(r.code == ResponseCode.success)
        #expect(decodeRecords(r.body).count == 20, "a pull asks for at most the tokens available (one second's worth)")
        // From here on the group gets 20 messages a second: 40 more take about two seconds, every answer a success.
        let start = ContinuousClock.now
        var offset: Int64 = 20
        var answers = 0
        while offset < 60 {
            r = try await f.pull("P", offset: offset, group: "Slow", on: c)
            #expect(r.code == ResponseCode.success)
            offset = r.extFields.int64("nextBeginOffset") ?? 60
            answers += 1
        }
        let waited = ContinuousClock.now - start
        #expect(waited > .milliseconds(1_500) && waited < .milliseconds(4_000), "\(waited) for 40 messages in \(answers) answers")
        // Other groups are not slowed.
        let other = ContinuousClock.now
        r = try await f.pull("P", offset: 0, group: "Fast", on: c)
        #expect(decodeRecords(r.body).count == 32 && ContinuousClock.now - other < .milliseconds(300))
        await f.stop()
    }

    /// A storm of sends to one rate-limited topic from several connections: the limiter holds the stormy topic to
    /// its rate and every send to another topic succeeds. The latency comparison (calm topic p50 / p99, quiet vs
    /// storm) is printed here and asserted nowhere: it is a benchmark figure (TERN_FLOW_BENCH=1 below), since
    /// timings on a shared 2-core machine are noise.
    @Test func stormOnOneTopicIsLimitedAndAnotherTopicKeepsWorking() async throws {
        let limited = try await Self.storm(limit: 500)
        print("storm (Storm limited to 500/s): \(limited.sent) sends in \(limited.seconds) s, Calm p50/p99 quiet \(limited.quiet) storm \(limited.loud)")
        #expect(Double(limited.stored) <= 500 * (limited.seconds + 1), "the limiter let \(limited.stored) through")
        #expect(limited.stored < Int64(limited.sent), "the storm was not limited at all")
        #expect(limited.calmFailures == 0)
    }

    /// Benchmark figure (TERN_FLOW_BENCH=1): the same storm against an unlimited and a limited Storm topic.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TERN_FLOW_BENCH"] != nil))
    func stormBenchmark() async throws {
        for limit in [nil, 500.0] as [Double?] {
            let r = try await Self.storm(limit: limit, stormers: 6, samples: 300)
            print("BENCH storm limit \(limit.map { "\($0)/s" } ?? "none"): offered \(Int(Double(r.sent) / r.seconds))/s, stored \(r.stored), Calm p50/p99 quiet \(r.quiet) storm \(r.loud), Calm failures \(r.calmFailures)")
        }
    }

    struct StormFigures { var sent: Int; var seconds: Double; var quiet: (Duration, Duration); var loud: (Duration, Duration); var stored: Int64; var calmFailures: Int }

    /// Calm's p99 send latency before and during a storm of pipelined sends to Storm (limited to `limit`/s).
    /// Both loops run as NIO callbacks on the client's own event loops: timing through Swift tasks would
    /// measure the cooperative pool's scheduling, not the broker.
    static func storm(limit: Double?, stormers: Int = 4, samples: Int = 300) async throws -> StormFigures {
        let f = try await BrokerFixture.start { c in if let limit { c.flow.topicRateLimits = ["Storm": limit] } }
        let clients = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let c = try await RemotingClient.connect(to: f.address, group: clients)
        let calm = f.sendCommand("Calm", SendFrames.properties([("WAIT", "true")]))
        let failures = Atomic<Int>(0)
        /// (p50, p99) of `n` sequential Calm sends.
        @Sendable func p99(_ n: Int) async throws -> (Duration, Duration) {
            let done = c.channel.eventLoop.makePromise(of: [UInt64].self)
            @Sendable func next(_ acc: [UInt64]) {
                if acc.count == n { return done.succeed(acc) }
                let start = NIODeadline.now().uptimeNanoseconds
                c.request(calm, timeout: .seconds(5)).whenComplete { r in
                    // A failed or timed-out send counts with the time it took (and fails the test's expectations).
                    if case .success(let resp) = r, resp.code != ResponseCode.success { failures.add(1, ordering: .relaxed) }
                    if case .failure = r { failures.add(1, ordering: .relaxed) }
                    next(acc + [NIODeadline.now().uptimeNanoseconds - start])
                }
            }
            c.channel.eventLoop.execute { next([]) }
            let sorted = try await done.futureResult.get().sorted()
            return (.nanoseconds(Int64(sorted[n / 2])), .nanoseconds(Int64(sorted[n * 99 / 100])))
        }
        _ = try await p99(50)
        let quiet = try await p99(samples)
        final class Shared: Sendable { let sent = Atomic<Int>(0) }
        let shared = Shared()
        let conns = try await (0..<stormers).asyncMap { _ in try await RemotingClient.connect(to: f.address, group: clients) }
        let stormCommand = f.sendCommand("Storm")
        // Open loop: each stormer fires 32 pipelined sends every `interval`, answered or not (a closed loop
        // on this shared machine would only measure fair queueing at 100 % CPU).
        let interval = TimeAmount.milliseconds(50)
        let started = ContinuousClock.now
        let tasks = conns.map { sc in
            sc.channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
                for _ in 0..<32 { _ = sc.request(stormCommand, timeout: .seconds(10)) }
                shared.sent.add(32, ordering: .relaxed)
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let loud = try await p99(samples)
        for t in tasks { t.cancel() }
        let elapsed = ContinuousClock.now - started
        try await Task.sleep(for: .milliseconds(100))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let figures = StormFigures(sent: shared.sent.load(ordering: .relaxed), seconds: seconds, quiet: quiet, loud: loud,
                                   stored: try f.storedCount("Storm"), calmFailures: failures.load(ordering: .relaxed))
        for sc in conns { sc.close() }
        c.close()
        await f.stop()
        try await clients.shutdownGracefully()
        return figures
    }
}

/// CONSUMER_SEND_MSG_BACK (36) goes through the group limiter and runs on its own executor, off the event loops.
@Suite struct SendBackGateTests {
    final class FakeSendBack: BrokerProcessor {
        let onLoop = Atomic<Int>(0)
        let handled = Atomic<Int>(0)
        var codes: [Int] { [RequestCode.consumerSendMsgBack] }
        func handle(_ request: RemotingCommand, responder: RemotingResponder) {
            if responder.connection.channel.eventLoop.inEventLoop { onLoop.add(1, ordering: .relaxed) }
            handled.add(1, ordering: .relaxed)
            responder.respond(code: ResponseCode.success)
        }
    }

    @Test func sendBackIsLimitedPerGroupAndRunsOffTheEventLoop() async throws {
        let dir = NSTemporaryDirectory() + "tern-flow-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var sc = StoreConfig(root: dir)
        sc.segmentSize = 1 << 20
        sc.maxMessageSize = 4096
        sc.indexBackend = .inMemory
        let store = try MessageStore.open(sc).start()
        defer { store.close() }
        var fc = FlowConfig()
        fc.sendBackRateLimit = 3
        fc.groupSendBackRateLimits = ["Loose": 100]
        let flow = FlowControl(config: fc, store: store, storeRoot: dir, logger: Logger(label: "test"))
        defer { flow.shutdown() }
        let fake = FakeSendBack()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group,
                                                    handler: BrokerRequestHandler(processors: [fake], flow: flow),
                                                    logger: Logger(label: "test"))
        let c = try await RemotingClient.connect(to: "127.0.0.1:\(server.port)", group: group)
        func sendBack(_ g: String) async throws -> RemotingCommand {
            try await c.request(RemotingCommand(code: RequestCode.consumerSendMsgBack, extFields: ["group": g, "offset": "0"]),
                                timeout: .seconds(5))
        }
        // All six at once: sent one after the other on a loaded machine, a token could refill in between.
        let strict = try await withThrowingTaskGroup(of: RemotingCommand.self) { tasks in
            for _ in 0..<6 { tasks.addTask { try await sendBack("Storming") } }
            var all: [RemotingCommand] = []
            for try await r in tasks { all.append(r) }
            return all
        }
        #expect(strict.filter { $0.code == ResponseCode.success }.count == 3)
        #expect(strict.filter { $0.code == ResponseCode.systemBusy && $0.remark?.contains("RateLimit") == true }.count == 3)
        let loose = try await (0..<6).asyncMap { _ in try await sendBack("Loose") }
        #expect(loose.allSatisfy { $0.code == ResponseCode.success })
        #expect(fake.handled.load(ordering: .relaxed) == 9)
        #expect(fake.onLoop.load(ordering: .relaxed) == 0)
        c.close()
        await server.stop()
        try await group.shutdownGracefully()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
