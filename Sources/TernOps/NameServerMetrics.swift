import Prometheus

/// The name server's metrics, on its own port: request latency (RocketMQ's `rocketmq_rpc_latency` with
/// `node_type="nameserver"`) and the registry's size, computed at scrape time.
public final class NameServerMetrics: MetricsSource {
    public let registry: PrometheusCollectorRegistry
    public let rpc: RequestLatency
    /// Live broker addresses registered.
    public let brokers: Gauge
    public let topics: Gauge
    public let clusters: Gauge
    public let connections: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), node: MetricsNode,
                labelLimit: Int = BrokerMetrics.defaultLabelLimit) {
        self.registry = registry
        rpc = RequestLatency(node: node, labelLimit: labelLimit)
        func g(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: PrometheusCollectorRegistry.descriptor(name, help), labels: node.labels)
        }
        brokers = g("tern_namesrv_brokers", "Live brokers registered.")
        topics = g("tern_namesrv_topics", "Topics in the route table.")
        clusters = g("tern_namesrv_clusters", "Clusters registered.")
        connections = g("tern_connections", "Open client connections on the remoting port.")
    }

    /// The exposition: the registry's families, then the latency histogram.
    public func emit(into buffer: inout [UInt8]) {
        registry.emit(into: &buffer)
        rpc.family.emit(into: &buffer)
    }
}
