import Prometheus

/// The broker's scrape-time figures: set by the broker's refresh closure just before each exposition.
public final class BrokerGauges: Sendable {
    // Per topic and consumer group (RocketMQ 5.1).
    /// Messages stored but not yet pulled by the group.
    public let consumerReady: ScrapedGauges
    /// Messages pulled but not yet committed by the group.
    public let consumerInflight: ScrapedGauges
    /// Age of the oldest message not yet pulled (ms).
    public let consumerQueueingLatency: ScrapedGauges
    /// Age of the oldest message not yet committed (ms).
    public let consumerLagLatency: ScrapedGauges
    // Storage (RocketMQ 5.1).
    /// Age of the oldest message kept (ms).
    public let storageReserveTime: Gauge
    public let dispatchBehindBytes: Gauge
    public let flushBehindBytes: Gauge
    // Tern's own.
    /// Bytes each connected slave has not yet acknowledged, by slave address.
    public let replicationLag: ScrapedGauges
    /// The largest of those (0 without slaves): always present, for alerts and dashboards.
    public let replicationLagMax: Gauge
    public let replicationSlaves: Gauge
    public let segments: Gauge
    public let logBytes: Gauge
    public let diskTotalBytes: Gauge
    public let diskFreeBytes: Gauge
    /// Used fraction of the store's file system (0...1).
    public let diskUsedRatio: Gauge
    public let connections: Gauge
    public let longPollHolds: Gauge
    public let fastFailures: MirroredCounter
    public let overloaded: MirroredCounter
    public let rateLimited: MirroredCounter
    public let duplicates: MirroredCounter

    init(registry: PrometheusCollectorRegistry, base: [(String, String)], labelLimit: Int) {
        func g(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: PrometheusCollectorRegistry.descriptor(name, help), labels: base)
        }
        func c(_ name: String, _ help: String) -> MirroredCounter {
            MirroredCounter(registry.makeCounter(descriptor: PrometheusCollectorRegistry.descriptor(name, help), labels: base))
        }
        func perGroup(_ name: String, _ help: String) -> ScrapedGauges {
            ScrapedGauges(registry, name, help, base: base, labels: ["topic", "consumer_group"], limit: labelLimit)
        }
        consumerReady = perGroup("rocketmq_consumer_ready_messages", "Messages stored and not yet pulled by the group.")
        consumerInflight = perGroup("rocketmq_consumer_inflight_messages", "Messages pulled and not yet committed by the group.")
        consumerQueueingLatency = perGroup("rocketmq_consumer_queueing_latency", "Age of the oldest message not yet pulled, ms.")
        consumerLagLatency = perGroup("rocketmq_consumer_lag_latency", "Age of the oldest message not yet committed, ms.")
        storageReserveTime = g("rocketmq_storage_message_reserve_time", "Age of the oldest stored message, ms.")
        dispatchBehindBytes = g("rocketmq_storage_dispatch_behind_bytes", "Commit-log bytes not yet indexed.")
        flushBehindBytes = g("rocketmq_storage_flush_behind_bytes", "Commit-log bytes not yet flushed to disk.")
        replicationLag = ScrapedGauges(registry, "tern_replication_lag_bytes", "Commit-log bytes a slave has not acknowledged.",
                                       base: base, labels: ["slave"], limit: labelLimit)
        replicationLagMax = g("tern_replication_lag_max_bytes", "Largest lag of a connected slave, bytes (0 without slaves).")
        replicationSlaves = g("tern_replication_slaves", "Slaves connected to this master.")
        segments = g("tern_store_segments", "Commit-log segment files.")
        logBytes = g("tern_store_log_bytes", "Commit-log bytes kept (write position minus oldest kept offset).")
        diskTotalBytes = g("tern_store_disk_total_bytes", "Size of the store's file system.")
        diskFreeBytes = g("tern_store_disk_free_bytes", "Free bytes on the store's file system.")
        diskUsedRatio = g("tern_store_disk_used_ratio", "Used fraction of the store's file system (0 to 1).")
        connections = g("tern_connections", "Open client connections on the remoting port.")
        longPollHolds = g("tern_long_poll_holds", "Pull requests held (long polling) waiting for messages.")
        fastFailures = c("tern_fast_failures_total", "Requests refused by fast failure (waited too long in queue).")
        overloaded = c("tern_overloaded_total", "Requests refused because a bounded queue was full.")
        rateLimited = c("tern_rate_limited_total", "Requests refused or delayed by a rate limit.")
        duplicates = c("tern_dedup_duplicates_total", "Sends answered with the first copy (dedup window).")
    }
}
