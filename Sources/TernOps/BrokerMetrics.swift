import NIOCore
import Prometheus
import Synchronization

/// The broker's metrics: RocketMQ 5.1's names, units, labels and buckets (so dashboards and alerts written for
/// it carry over) plus Tern's own under `tern_`.
///
/// Counted on the request path: messages / bytes in and out, message sizes, RPC latency, dead-lettered
/// messages, store append latency. Sends and their answers add up per read burst in the connection's
/// ``BurstTally`` and reach the instruments once per burst. Instruments are resolved per topic / group / code once and cached
/// (``LabelledCache``, a lock-free lookup); at most `labelLimit` distinct label sets per family, then `_other`.
/// Recording takes no lock: counters are the registry's atomics, histograms are ``AtomicHistogram``s (rendered
/// after the registry's families by ``emit(into:)``).
/// Computed at scrape time (``gauges``): consumer lag, storage positions, disk, replication, connections.
public final class BrokerMetrics: MetricsSource {
    /// RocketMQ's `message_type` label.
    public enum MessageType: String, Sendable { case normal, fifo, transaction, delay }

    /// Default bound on distinct label sets per family (topics × message types, groups × topics, ...).
    public static let defaultLabelLimit = 1_000
    /// `rocketmq_message_size` buckets (bytes): 1 KiB, 4 KiB, 512 KiB, 1, 2, 4 MiB, then +Inf (RocketMQ's).
    public static let messageSizeBuckets: [Double] = [1024, 4096, 524_288, 1_048_576, 2_097_152, 4_194_304]
    /// `tern_store_*_latency_seconds` buckets: 10 µs to 1 s.
    public static let storeLatencyBuckets: [Double] = [0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]

    public struct Inbound: Sendable {
        public let messages: Counter
        public let bytes: Counter
        public let size: AtomicHistogram

        /// One stored message of `bodyBytes`.
        public func record(bodyBytes: Int) {
            messages.increment()
            bytes.increment(by: Int64(bodyBytes))
            size.record(bodyBytes)
        }
    }

    public struct Outbound: Sendable {
        public let messages: Counter
        public let bytes: Counter
    }

    struct TopicType: Hashable, Sendable { var topic: String, type: MessageType }
    struct GroupTopic: Hashable, Sendable { var group: String, topic: String }

    public let registry: PrometheusCollectorRegistry
    public let node: MetricsNode
    public let labelLimit: Int
    private let inbound: LabelledCache<TopicType, Inbound>
    private let outbound: LabelledCache<GroupTopic, Outbound>
    private let deadLettered: LabelledCache<GroupTopic, Counter>
    /// rocketmq_rpc_latency.
    public let rpc: RequestLatency
    /// Time a send spends in the store's append (copy into the mapped segment); recorded in ns, rendered in
    /// seconds. Sampled: per connection the first append of a read burst beginning at least 1 ms after the last
    /// timed one, and every append outside a burst (``appendBegins(_:)``).
    public let storeAppendLatency: AtomicHistogram
    /// One msync round of the commit log (ns recorded, seconds rendered).
    public let storeFlushLatency: AtomicHistogram
    /// One index batch, derive + LMDB commit (ns recorded, seconds rendered).
    public let storeDispatchLatency: AtomicHistogram
    public let gauges: BrokerGauges
    /// The histogram families, rendered after the registry's.
    private let histograms: [HistogramFamily]
    /// False while SET_METRICS_RECORDING (benchmarks only) has paused recording.
    private let recording = Atomic<Bool>(true)

    /// True unless a benchmark paused recording: while false the request path records nothing (each hook
    /// returns after this one relaxed load) and scrapes still answer with the totals so far.
    public var isRecording: Bool { recording.load(ordering: .relaxed) }

    /// Pauses or resumes recording from the next hook on (``isRecording``).
    public func setRecording(_ on: Bool) { recording.store(on, ordering: .relaxed) }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), node: MetricsNode,
                labelLimit: Int = BrokerMetrics.defaultLabelLimit) {
        self.registry = registry
        self.node = node
        self.labelLimit = labelLimit
        let base = node.labels
        @Sendable func d(_ name: String, _ help: String) -> MetricNameDescriptor { PrometheusCollectorRegistry.descriptor(name, help) }
        let other = "_other"
        let sizes = HistogramFamily("rocketmq_message_size", "Sizes of stored messages, bytes.", bounds: Self.messageSizeBuckets)
        inbound = LabelledCache(limit: labelLimit, overflowKey: TopicType(topic: other, type: .normal)) { k in
            let labels = base + [("topic", k.topic), ("message_type", k.type.rawValue)]
            return Inbound(
                messages: registry.makeCounter(descriptor: d("rocketmq_messages_in_total", "Messages produced."), labels: labels),
                bytes: registry.makeCounter(descriptor: d("rocketmq_throughput_in_total", "Bytes of message bodies produced."), labels: labels),
                size: sizes.makeHistogram(labels: labels))
        }
        outbound = LabelledCache(limit: labelLimit, overflowKey: GroupTopic(group: other, topic: other)) { k in
            let labels = base + [("topic", k.topic), ("consumer_group", k.group)]
            return Outbound(
                messages: registry.makeCounter(descriptor: d("rocketmq_messages_out_total", "Messages consumed (pulled)."), labels: labels),
                bytes: registry.makeCounter(descriptor: d("rocketmq_throughput_out_total", "Bytes of message bodies consumed."), labels: labels))
        }
        deadLettered = LabelledCache(limit: labelLimit, overflowKey: GroupTopic(group: other, topic: other)) { k in
            registry.makeCounter(descriptor: d("rocketmq_send_to_dlq_messages_total", "Messages moved to a dead-letter queue."),
                                 labels: base + [("topic", k.topic), ("consumer_group", k.group)])
        }
        rpc = RequestLatency(node: node, labelLimit: labelLimit)
        func seconds(_ name: String, _ help: String) -> HistogramFamily {
            HistogramFamily(name, help, bounds: Self.storeLatencyBuckets, scale: 1e9)
        }
        let append = seconds("tern_store_append_latency_seconds",
                             "Time to append one send's records to the commit log (the first send of each read burst).")
        let flush = seconds("tern_store_flush_latency_seconds", "Time of one commit-log flush (msync) round.")
        let dispatch = seconds("tern_store_dispatch_latency_seconds", "Time of one index batch (derive and commit).")
        storeAppendLatency = append.makeHistogram(labels: base)
        storeFlushLatency = flush.makeHistogram(labels: base)
        storeDispatchLatency = dispatch.makeHistogram(labels: base)
        histograms = [sizes, rpc.family, append, flush, dispatch]
        gauges = BrokerGauges(registry: registry, base: base, labelLimit: labelLimit)
    }

    /// The exposition: the registry's families, then the histograms.
    public func emit(into buffer: inout [UInt8]) {
        registry.emit(into: &buffer)
        for family in histograms { family.emit(into: &buffer) }
    }

    /// The observer of one connection on `eventLoop` (`RemotingRequestHandler.makeResponseObserver(on:)`): its
    /// sends and answers are counted per read burst.
    public func burstTally(on eventLoop: any EventLoop) -> BurstTally { BurstTally(metrics: self, eventLoop: eventLoop) }

    /// Where an append's figures go, taken before it: the open burst's tally, and the start of the append's
    /// timing (0: not timed).
    public struct AppendMark {
        let tally: BurstTally?
        let started: UInt64
    }

    /// Call before a send's append, `burst` being the observer of the request's connection; pass the mark to
    /// ``appended(_:)`` and ``stored(_:topic:type:bodyBytes:)``.
    public func appendBegins(_ burst: BurstTally?) -> AppendMark {
        guard let tally = burst?.inBurst else { return AppendMark(tally: nil, started: RequestLatency.now()) }
        return AppendMark(tally: tally, started: tally.takeAppendTiming() ? RequestLatency.now() : 0)
    }

    /// The append marked by `mark` is done: `tern_store_append_latency_seconds` observes it if it was timed.
    public func appended(_ mark: AppendMark) {
        if mark.started != 0 { storeAppendLatency.record(Int(truncatingIfNeeded: RequestLatency.now() &- mark.started)) }
    }

    /// One message of `bodyBytes` stored to `topic` by the append marked by `mark`.
    public func stored(_ mark: AppendMark, topic: String, type: MessageType, bodyBytes: Int) {
        if let tally = mark.tally, tally.stored(topic: topic, type: type, bodyBytes: bodyBytes) { return }
        inbound(topic: topic, type: type).record(bodyBytes: bodyBytes)
    }

    /// Instruments for messages stored to `topic`.
    public func inbound(topic: String, type: MessageType) -> Inbound { inbound[TopicType(topic: topic, type: type)] }

    /// Instruments for messages `group` pulled from `topic`.
    public func outbound(group: String, topic: String) -> Outbound { outbound[GroupTopic(group: group, topic: topic)] }

    /// Counter of `group`'s messages of `topic` sent to its dead-letter queue.
    public func deadLettered(group: String, topic: String) -> Counter { deadLettered[GroupTopic(group: group, topic: topic)] }
}
