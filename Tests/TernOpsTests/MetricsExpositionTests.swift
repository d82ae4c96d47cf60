import Prometheus
import Testing
@testable import TernOps

/// The exposition text of the broker's metric families, without a server.
@Suite struct MetricsExpositionTests {
    static let node = MetricsNode(cluster: "C", nodeType: .broker, nodeId: "broker-a")

    @Test func countersCarryRocketMQNamesAndLabels() {
        let m = BrokerMetrics(node: Self.node)
        let inbound = m.inbound(topic: "T", type: .normal)
        for size in [10, 2_000, 600_000] { inbound.record(bodyBytes: size) }
        m.outbound(group: "G", topic: "T").messages.increment(by: Int64(2))
        m.deadLettered(group: "G", topic: "T").increment()
        m.rpc.record(requestCode: 310, responseCode: 0, nanos: 2_000_000)
        let text = exposition(m)
        let base = ["cluster": "C", "node_type": "broker", "node_id": "broker-a"]
        #expect(sample(text, "rocketmq_messages_in_total", base.merging(["topic": "T", "message_type": "normal"]) { a, _ in a }) == 3)
        #expect(sample(text, "rocketmq_throughput_in_total", ["topic": "T"]) == 602_010)
        #expect(sample(text, "rocketmq_messages_out_total", ["topic": "T", "consumer_group": "G"]) == 2)
        #expect(sample(text, "rocketmq_send_to_dlq_messages_total", ["consumer_group": "G"]) == 1)
        // RocketMQ's size buckets: 10 B and 2 KB under 4 KiB, 600 KB under 1 MiB.
        #expect(sample(text, "rocketmq_message_size_bucket", ["le": "1024.0"]) == 1)
        #expect(sample(text, "rocketmq_message_size_bucket", ["le": "4096.0"]) == 2)
        #expect(sample(text, "rocketmq_message_size_bucket", ["le": "524288.0"]) == 2)
        #expect(sample(text, "rocketmq_message_size_bucket", ["le": "1048576.0"]) == 3)
        #expect(sample(text, "rocketmq_rpc_latency_bucket", ["request_code": "310", "response_code": "0", "le": "1.0"]) == 0)
        #expect(sample(text, "rocketmq_rpc_latency_bucket", ["request_code": "310", "response_code": "0", "le": "3.0"]) == 1)
        #expect(text.contains("# TYPE rocketmq_messages_in_total counter"))
        #expect(text.contains("# TYPE rocketmq_message_size histogram"))
    }

    @Test func labelCardinalityIsCapped() {
        let m = BrokerMetrics(node: Self.node, labelLimit: 2)
        for t in ["A", "B", "C", "D"] { m.inbound(topic: t, type: .normal).record(bodyBytes: 1) }
        let text = exposition(m)
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "A"]) == 1)
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "B"]) == 1)
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "C"]) == nil)
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "_other"]) == 2)
    }

    @Test func scrapedGaugesDropSeriesNotSetAgain() {
        let m = BrokerMetrics(node: Self.node)
        let ready = m.gauges.consumerReady
        ready.set(["T", "G1"], 5)
        ready.set(["T", "G2"], 7)
        ready.sweep()
        var text = exposition(m)
        #expect(sample(text, "rocketmq_consumer_ready_messages", ["consumer_group": "G2"]) == 7)
        ready.set(["T", "G1"], 4)
        ready.sweep()
        text = exposition(m)
        #expect(sample(text, "rocketmq_consumer_ready_messages", ["consumer_group": "G1"]) == 4)
        #expect(sample(text, "rocketmq_consumer_ready_messages", ["consumer_group": "G2"]) == nil)
    }

    @Test func mirroredCounterAddsOnlyGrowth() {
        let m = BrokerMetrics(node: Self.node)
        m.gauges.fastFailures.update(total: 3)
        m.gauges.fastFailures.update(total: 3)
        m.gauges.fastFailures.update(total: 5)
        #expect(sample(exposition(m), "tern_fast_failures_total") == 5)
    }

    @Test func exporterKeysParse() throws {
        var c = MetricsExporterConfig()
        #expect(!c.enabled && c.port == 5557)
        #expect(try c.set("metricsExporterType", "PROM"))
        #expect(try c.set("metricsPromExporterPort", "9100"))
        #expect(try c.set("metricsPromExporterHost", "0.0.0.0"))
        #expect(try !c.set("listenPort", "1"))
        #expect(c.enabled && c.port == 9100 && c.host == "0.0.0.0")
        #expect(throws: MetricsConfigError.self) { try c.set("metricsExporterType", "OTLP_GRPC") }
        #expect(throws: MetricsConfigError.self) { try c.set("metricsPromExporterPort", "70000") }
    }
}

/// The exposition `/metrics` answers for `m`.
private func exposition(_ m: BrokerMetrics) -> String {
    var bytes: [UInt8] = []
    m.emit(into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}
