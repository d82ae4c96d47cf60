import Prometheus
import Synchronization

/// The labels every series of one process carries (RocketMQ 5.1's `cluster`, `node_type`, `node_id`).
public struct MetricsNode: Sendable {
    public enum NodeType: String, Sendable { case broker, nameserver }
    public var cluster: String
    public var nodeType: NodeType
    public var nodeId: String

    public init(cluster: String, nodeType: NodeType, nodeId: String) {
        self.cluster = cluster
        self.nodeType = nodeType
        self.nodeId = nodeId
    }

    var labels: [(String, String)] { [("cluster", cluster), ("node_type", nodeType.rawValue), ("node_id", nodeId)] }
}

extension PrometheusCollectorRegistry {
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// A gauge family whose series are recomputed at each scrape: `set` the current series, then `sweep` drops
/// the ones not set since the last sweep (a group that went away stops being reported).
public final class ScrapedGauges: Sendable {
    private struct State {
        var live: [[String]: Gauge] = [:]
        var touched: Set<[String]> = []
    }
    private let registry: PrometheusCollectorRegistry
    private let name: String
    private let help: String
    private let base: [(String, String)]
    private let labelNames: [String]
    private let limit: Int
    private let state = Mutex(State())

    init(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, base: [(String, String)],
         labels: [String], limit: Int) {
        self.registry = registry
        self.name = name
        self.help = help
        self.base = base
        labelNames = labels
        self.limit = limit
    }

    public func set(_ values: [String], _ value: Double) {
        state.withLock { s in
            if s.live[values] == nil {
                guard s.live.count < limit else { return }
                s.live[values] = registry.makeGauge(descriptor: PrometheusCollectorRegistry.descriptor(name, help), labels: base + Array(zip(labelNames, values)))
            }
            s.live[values]!.set(value)
            s.touched.insert(values)
        }
    }

    public func sweep() {
        state.withLock { s in
            for (values, gauge) in s.live where !s.touched.contains(values) {
                registry.unregisterGauge(gauge)
                s.live.removeValue(forKey: values)
            }
            s.touched.removeAll(keepingCapacity: true)
        }
    }
}

/// A Prometheus counter fed from a running total kept elsewhere (an atomic the broker already counts):
/// each scrape adds what the total grew by since the last one.
public final class MirroredCounter: Sendable {
    private let counter: Counter
    private let seen = Mutex<Int64>(0)

    init(_ counter: Counter) { self.counter = counter }

    public func update(total: Int64) {
        seen.withLock { last in
            if total > last { counter.increment(by: total - last) }
            last = max(last, total)
        }
    }
}
