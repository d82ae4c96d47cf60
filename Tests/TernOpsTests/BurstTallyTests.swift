import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import TernBroker
import TernRemoting
import TernTransport
@testable import TernOps

/// Sends and answers add up per read burst in the connection's ``BurstTally`` and reach the instruments when the
/// burst ends: exact counts, one rpc observation per answer, sampled append timing.
@Suite struct BurstTallyTests {
    private static func exposition(_ metrics: BrokerMetrics) -> String {
        var bytes: [UInt8] = []
        metrics.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A metered connection's tally on a real event loop; `onLoop` runs work there and waits (as the transport
    /// drives it: burst hooks and inline answers on the loop).
    private static func withTally(
        _ body: (BrokerMetrics, BurstTally, (@escaping @Sendable () -> Void) throws -> Void) throws -> Void
    ) throws {
        let metrics = BrokerMetrics(node: MetricsNode(cluster: "C", nodeType: .broker, nodeId: "b"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        try body(metrics, metrics.burstTally(on: loop)) { work in try loop.submit(work).wait() }
    }

    /// One connection's tally, driven on its event loop as the transport drives it.
    @Test func burstFiguresReachTheInstrumentsWhenItEnds() throws {
        try Self.withTally { metrics, tally, onLoop in
            let start = RequestLatency.now()
            try onLoop {
                tally.readBurstBegan(startNanos: start)
                for i in 0..<30 {
                    let mark = metrics.appendBegins(tally)
                    metrics.appended(mark)
                    metrics.stored(mark, topic: i % 3 == 0 ? "TA" : "TB", type: .normal, bodyBytes: i % 2 == 0 ? 100 : 5_000)
                    tally.answered(requestCode: 310, responseCode: 0, receivedNanos: start)
                }
            }
            // Inside the burst nothing reached the shared instruments yet but the one timed append.
            var text = Self.exposition(metrics)
            #expect(sample(text, "rocketmq_messages_in_total", ["topic": "TA"]) == 0)
            #expect(sample(text, "rocketmq_rpc_latency_count") == 0)
            #expect(sample(text, "tern_store_append_latency_seconds_count") == 1)
            try onLoop { tally.readBurstEnded() }
            text = Self.exposition(metrics)
            // TA: i = 0, 3, ..., 27 (10 messages, 5 of 100 bytes and 5 of 5,000); TB: the other 20, 10 of each.
            #expect(sample(text, "rocketmq_messages_in_total", ["topic": "TA", "message_type": "normal"]) == 10)
            #expect(sample(text, "rocketmq_messages_in_total", ["topic": "TB"]) == 20)
            #expect(sample(text, "rocketmq_throughput_in_total", ["topic": "TA"]) == 25_500)
            #expect(sample(text, "rocketmq_throughput_in_total", ["topic": "TB"]) == 51_000)
            #expect(sample(text, "rocketmq_message_size_bucket", ["topic": "TB", "le": "1024.0"]) == 10)
            #expect(sample(text, "rocketmq_message_size_bucket", ["topic": "TB", "le": "4096.0"]) == 10)
            #expect(sample(text, "rocketmq_message_size_bucket", ["topic": "TB", "le": "524288.0"]) == 20)
            #expect(sample(text, "rocketmq_message_size_count", ["topic": "TA"]) == 10)
            #expect(sample(text, "rocketmq_message_size_sum", ["topic": "TA"]) == 25_500)
            #expect(sample(text, "rocketmq_rpc_latency_count", ["request_code": "310", "response_code": "0"]) == 30)
            #expect(sample(text, "tern_store_append_latency_seconds_count") == 1)

            // Outside a burst every send and answer is recorded at once (and every append timed).
            try onLoop {
                let mark = metrics.appendBegins(tally)
                metrics.appended(mark)
                metrics.stored(mark, topic: "TA", type: .normal, bodyBytes: 1)
                tally.answered(requestCode: 310, responseCode: 0, receivedNanos: start)
            }
            text = Self.exposition(metrics)
            #expect(sample(text, "rocketmq_messages_in_total", ["topic": "TA"]) == 11)
            #expect(sample(text, "rocketmq_rpc_latency_count", ["request_code": "310", "response_code": "0"]) == 31)
            #expect(sample(text, "tern_store_append_latency_seconds_count") == 2)
            // A burst beginning within the sampling interval of the last timed one times no append; the next burst
            // past it times its first; a second burst adds to the first.
            try onLoop {
                tally.readBurstBegan(startNanos: start + BurstTally.appendSampleNanos - 1)
                let inBurst = metrics.appendBegins(tally)
                metrics.appended(inBurst)
                metrics.stored(inBurst, topic: "TA", type: .normal, bodyBytes: 1)
                tally.readBurstEnded()
                tally.readBurstBegan(startNanos: start + BurstTally.appendSampleNanos)
                for _ in 0..<2 { metrics.appended(metrics.appendBegins(tally)) }
                tally.readBurstEnded()
            }
            text = Self.exposition(metrics)
            #expect(sample(text, "rocketmq_messages_in_total", ["topic": "TA"]) == 12)
            #expect(sample(text, "tern_store_append_latency_seconds_count") == 3)
        }
    }

    /// An answer given on another thread while the connection's burst is open (a deferred answer: sync flush,
    /// slave ack) never touches the tally: it is observed at once, and the burst's own answers still add up.
    @Test func answersOffTheLoopAreObservedAtOnce() throws {
        try Self.withTally { metrics, tally, onLoop in
            let start = RequestLatency.now()
            try onLoop {
                tally.readBurstBegan(startNanos: start)
                tally.answered(requestCode: 310, responseCode: 0, receivedNanos: start)
            }
            tally.answered(requestCode: 310, responseCode: 0, receivedNanos: start)  // this thread: not the loop
            #expect(metrics.appendBegins(tally).started != 0)  // off the loop: not in the burst, timed
            var text = Self.exposition(metrics)
            #expect(sample(text, "rocketmq_rpc_latency_count", ["request_code": "310", "response_code": "0"]) == 1)
            try onLoop { tally.readBurstEnded() }
            text = Self.exposition(metrics)
            #expect(sample(text, "rocketmq_rpc_latency_count", ["request_code": "310", "response_code": "0"]) == 2)
        }
    }

    /// More distinct topics in one burst than the tally caches: the rest go straight to the instruments.
    @Test func topicsPastTheSlotsAreStillCounted() throws {
        try Self.withTally { metrics, tally, onLoop in
            let topics = (0..<(BurstTally.slots + 5)).map { "T\($0)" }
            try onLoop {
                tally.readBurstBegan(startNanos: 1)
                for _ in 0..<2 {
                    for topic in topics { metrics.stored(metrics.appendBegins(tally), topic: topic, type: .normal, bodyBytes: 10) }
                }
                tally.readBurstEnded()
            }
            let text = Self.exposition(metrics)
            for topic in topics { #expect(sample(text, "rocketmq_messages_in_total", ["topic": topic]) == 2) }
        }
    }

    /// A real broker: N sends to two topics written in one buffer (one read burst) are all counted, per topic,
    /// by the time their answers arrive.
    @Test func sendsInOneReadBurstToTwoTopicsCountExactly() async throws {
        let dir = NSTemporaryDirectory() + "tern-burst-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = BrokerConfig()
        config.storePathRootDir = dir
        config.listenPort = 0
        config.mappedFileSizeCommitLog = 64 << 20
        config.metrics.exporterType = .prom
        config.metrics.port = 0
        // A loaded test machine may take longer than 200 ms over the burst: no frame is refused for waiting.
        config.flow.brokerFastFailureEnable = false
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let broker = try await Broker.start(config: config, group: group, logger: Logger(label: "test.broker"))
        let port = try #require(await broker.ops?.listening())
        let answers = Answers()
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RemotingFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(answers)
                }
            }
            .connect(host: "127.0.0.1", port: broker.port).get()
        let n = 40
        var frames = ByteBuffer()
        for i in 0..<n {
            var fields: RemotingExtFields = ["a": "PG", "b": i % 4 == 0 ? "BurstA" : "BurstB", "c": "TBW102", "d": "4", "i": ""]
            fields.set("e", Int32(0))
            fields.set("f", Int32(0))
            fields.set("g", Int64(1_700_000_000_000))
            fields.set("h", Int32(0))
            try RemotingFrame.write(RemotingCommand(code: 310, opaque: Int32(i + 1), extFields: fields,
                                                    body: ByteBuffer(repeating: 0x61, count: 100 + i)), into: &frames)
        }
        try await client.writeAndFlush(frames)
        let deadline = ContinuousClock.now + .seconds(20)
        while answers.received.withLockedValue({ $0.count }) < n, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let received = answers.received.withLockedValue { $0 }
        #expect(received.count == n && received.allSatisfy { $0.code == 0 }, "\(received.filter { $0.code != 0 }.prefix(3).map { "\($0.code) \($0.remark ?? "")" })")
        // No waiting: every answered send is already counted.
        let text = try await HTTPGet.get(port: port, path: "/metrics").body
        let bytesA = (0..<n).filter { $0 % 4 == 0 }.reduce(0) { $0 + 100 + $1 }
        let bytesB = (0..<n).filter { $0 % 4 != 0 }.reduce(0) { $0 + 100 + $1 }
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "BurstA"]) == Double(n / 4))
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "BurstB"]) == Double(n - n / 4))
        #expect(sample(text, "rocketmq_throughput_in_total", ["topic": "BurstA"]) == Double(bytesA))
        #expect(sample(text, "rocketmq_throughput_in_total", ["topic": "BurstB"]) == Double(bytesB))
        #expect(sample(text, "rocketmq_message_size_count", ["topic": "BurstB"]) == Double(n - n / 4))
        #expect(sample(text, "rocketmq_rpc_latency_count", ["request_code": "310", "response_code": "0"]) == Double(n))
        // At most one timed append per burst, and the sends went through their connection's tally (every send
        // recorded directly would be timed).
        let timed = try #require(sample(text, "tern_store_append_latency_seconds_count"))
        #expect(timed >= 1 && timed < Double(n))
        try await client.close()
        await broker.shutdown()
        try await group.shutdownGracefully()
    }
}

/// Collects the broker's answers.
private final class Answers: ChannelInboundHandler, Sendable {
    typealias InboundIn = RemotingCommand
    let received = NIOLockedValueBox<[RemotingCommand]>([])
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let command = unwrapInboundIn(data)
        received.withLockedValue { $0.append(command) }
    }
}
