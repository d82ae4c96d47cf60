import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TernBroker
import TernClient
import TernNameServer
import TernOps
import TernStorage

/// A real broker with `metricsExporterType=PROM`: messages sent and pulled through TernClient move the
/// counters its `/metrics` answers, and the consumer gauges follow the committed offset.
@Suite struct BrokerMetricsTests {
    /// A broker with metrics on (ops port ephemeral) in `dir`, and a client runtime routed to it for `topic`;
    /// `configure` changes the config before the start.
    static func metricsBroker(_ dir: String, topic: String, group: any EventLoopGroup,
                              configure: (inout BrokerConfig) throws -> Void = { _ in }) async throws
        -> (BrokerConfig, Broker, ClientRuntime) {
        var config = BrokerConfig()
        config.storePathRootDir = dir
        config.listenPort = 0
        config.mappedFileSizeCommitLog = 64 << 20
        config.brokerClusterName = "MetricsCluster"
        config.metrics.exporterType = .prom
        config.metrics.port = 0
        try configure(&config)
        let broker = try await Broker.start(config: config, group: group, logger: Logger(label: "test.broker"))
        var options = ClientOptions(nameServer: "127.0.0.1:1")
        options.requestTimeout = .seconds(5)
        let runtime = ClientRuntime(options: options, group: group)
        runtime.pinRoute(topic: topic, brokerAddress: "127.0.0.1:\(broker.port)", queues: 1)
        return (config, broker, runtime)
    }

    @Test func sendsAndPullsMoveTheCounters() async throws {
        let dir = NSTemporaryDirectory() + "tern-metrics-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let (config, broker, runtime) = try await Self.metricsBroker(dir, topic: "MT", group: group)
        let port = try #require(await broker.ops?.listening())
        let producer = Producer(runtime: runtime)
        let n = 7
        for i in 0..<n { _ = try await producer.send(topic: "MT", body: Array("message \(i)".utf8)) }
        let consumer = PullConsumer(runtime: runtime, group: "MG")
        let queue = try #require(try await consumer.queues(topic: "MT").first)
        _ = broker.store.waitUntilDispatched(broker.store.maxPhysicalOffset)
        let pulled = try await consumer.pull(queue: queue, offset: 0, maxNums: 32)
        #expect(pulled.messages.count == n)
        try await consumer.commitOffset(queue: queue, offset: 3)

        // The committed offset reaches the store off the event loop: wait for the gauge with a deadline.
        var text = ""
        let deadline = ContinuousClock.now + .seconds(10)
        repeat {
            text = try await HTTPGet.get(port: port, path: "/metrics").body
            if sample(text, "rocketmq_consumer_inflight_messages", ["consumer_group": "MG"]) == Double(n - 3) { break }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        let labels = ["cluster": "MetricsCluster", "node_type": "broker", "node_id": config.brokerName, "topic": "MT"]
        #expect(sample(text, "rocketmq_messages_in_total", labels.merging(["message_type": "normal"]) { a, _ in a }) == Double(n))
        #expect(sample(text, "rocketmq_messages_out_total", labels.merging(["consumer_group": "MG"]) { a, _ in a }) == Double(n))
        #expect(sample(text, "rocketmq_message_size_count", ["topic": "MT"]) == Double(n))
        #expect(sample(text, "rocketmq_consumer_inflight_messages", ["topic": "MT", "consumer_group": "MG"]) == Double(n - 3))
        #expect(sample(text, "rocketmq_consumer_ready_messages", ["topic": "MT", "consumer_group": "MG"]) == 0)
        #expect((sample(text, "rocketmq_rpc_latency_count", ["request_code": "310", "response_code": "0"]) ?? 0) >= Double(n))
        // Sampled: at most one timed append per connection per millisecond of read bursts.
        let timed = sample(text, "tern_store_append_latency_seconds_count") ?? 0
        #expect(timed >= 1 && timed <= Double(n))
        #expect(sample(text, "tern_store_segments") == 1)
        #expect((sample(text, "tern_store_dispatch_latency_seconds_count") ?? 0) >= 1)
        #expect(sample(text, "tern_store_flush_latency_seconds_count") != nil)
        #expect(sample(text, "rocketmq_storage_dispatch_behind_bytes") != nil)
        #expect((sample(text, "tern_connections") ?? 0) >= 1)

        runtime.shutdown()
        await broker.shutdown()
        try await group.shutdownGracefully()
    }

    /// Pulls of two groups, in several sizes and one empty, count exactly per group; each group's ready and
    /// inflight gauges follow its own last pull and commit.
    @Test func pullsOfTwoGroupsCountExactlyPerGroup() async throws {
        let dir = NSTemporaryDirectory() + "tern-metrics-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let (_, broker, runtime) = try await Self.metricsBroker(dir, topic: "PT", group: group)
        let port = try #require(await broker.ops?.listening())
        let producer = Producer(runtime: runtime)
        let n = 9
        for i in 0..<n { _ = try await producer.send(topic: "PT", body: Array("message \(i)".utf8)) }
        _ = broker.store.waitUntilDispatched(broker.store.maxPhysicalOffset)
        let a = PullConsumer(runtime: runtime, group: "GA"), b = PullConsumer(runtime: runtime, group: "GB")
        let queue = try #require(try await a.queues(topic: "PT").first)
        #expect(try await a.pull(queue: queue, offset: 0, maxNums: 2).messages.count == 2)
        #expect(try await a.pull(queue: queue, offset: 2, maxNums: 32).messages.count == n - 2)
        #expect(try await a.pull(queue: queue, offset: Int64(n), maxNums: 32).messages.isEmpty)
        #expect(try await b.pull(queue: queue, offset: 0, maxNums: 4).messages.count == 4)
        try await a.commitOffset(queue: queue, offset: 5)
        try await b.commitOffset(queue: queue, offset: 1)

        var text = ""
        let deadline = ContinuousClock.now + .seconds(10)
        repeat {
            text = try await HTTPGet.get(port: port, path: "/metrics").body
            if sample(text, "rocketmq_consumer_inflight_messages", ["consumer_group": "GB"]) == 3,
               sample(text, "rocketmq_consumer_inflight_messages", ["consumer_group": "GA"]) == Double(n - 5) { break }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        for (g, count, ready, inflight) in [("GA", n, 0, n - 5), ("GB", 4, n - 4, 3)] {
            let labels = ["topic": "PT", "consumer_group": g]
            #expect(sample(text, "rocketmq_messages_out_total", labels) == Double(count))
            #expect(sample(text, "rocketmq_consumer_ready_messages", labels) == Double(ready))
            #expect(sample(text, "rocketmq_consumer_inflight_messages", labels) == Double(inflight))
        }
        runtime.shutdown()
        await broker.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func nameServerServesItsOwnMetrics() async throws {
        var config = NameServerConfig()
        config.listenPort = 0
        config.metrics.exporterType = .prom
        config.metrics.port = 0
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ns = try await NameServer.start(config: config, group: group)
        let port = try #require(await ns.ops?.listening())
        let text = try await HTTPGet.get(port: port, path: "/metrics").body
        #expect(sample(text, "tern_namesrv_brokers", ["node_type": "nameserver"]) == 0)
        #expect(sample(text, "tern_namesrv_topics") == 0)
        await ns.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func metricsOffServesNothing() async throws {
        var config = BrokerConfig()
        config.storePathRootDir = NSTemporaryDirectory() + "tern-metrics-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: config.storePathRootDir) }
        config.listenPort = 0
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let broker = try await Broker.start(config: config, group: group)
        #expect(broker.ops == nil)
        await broker.shutdown()
        try await group.shutdownGracefully()
    }
}
