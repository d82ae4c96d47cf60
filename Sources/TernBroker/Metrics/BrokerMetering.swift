import Prometheus
import Synchronization
import TernMessage
import TernOps
import TernReplication
import TernStorage
import TernSystem
import TernTransport

/// The broker's side of its metrics (TernOps.BrokerMetrics holds names and instruments): what the request
/// path records, and the figures computed at scrape time from the store's typed queries.
///
/// Thread-safety: the counters and histograms are atomics; `pulled` is one mutex-guarded map (pulls only).
final class BrokerMetering: Sendable {
    let metrics: BrokerMetrics
    /// Per group and queue: the next offset the group's last pull answered (ready = max - pulled, inflight =
    /// pulled - committed) and the group's outbound instruments for the queue's topic, so a pull takes one
    /// map lookup (no instrument lookup).
    private let pulled = Mutex<[ConsumerOffsetKey: Pulled]>([:])
    private struct Pulled {
        var next: Int64
        let outbound: BrokerMetrics.Outbound
    }

    init(metrics: BrokerMetrics) { self.metrics = metrics }

    private static let halfTopic = Array(TransactionRecords.halfTopic.utf8)
    private static let scheduleTopic = Array(DelayedDelivery.scheduleTopic.utf8)
    private static let timerTopic = Array(DelayedDelivery.timerTopic.utf8)

    /// The read-burst tally of the connection `responder` answers on (nil: not a metered connection).
    static func burst(of responder: RemotingResponder) -> BurstTally? { responder.connection.responseObserver as? BurstTally }

    /// Call before appending a send's drafts (`burst`: the request's, ``burst(of:)``); pass the mark to `stored`.
    /// Nil while recording is paused (nothing to record).
    func appendBegins(_ burst: BurstTally?) -> BrokerMetrics.AppendMark? {
        metrics.isRecording ? metrics.appendBegins(burst) : nil
    }

    /// `draft` (as routed: half messages and delays are parked in system topics) was stored to `topic` by the
    /// append marked by `mark`.
    func stored(_ mark: BrokerMetrics.AppendMark, topic: String, _ draft: borrowing MessageDraft) {
        metrics.appended(mark)
        metrics.stored(mark, topic: topic, type: Self.type(routedTo: draft.topic), bodyBytes: draft.body.count)
    }

    /// A batch's drafts (one routed topic) were stored to `topic` by the append marked by `mark`.
    func stored(_ mark: BrokerMetrics.AppendMark, topic: String, _ batch: [MessageDraft]) {
        metrics.appended(mark)
        guard !batch.isEmpty else { return }
        let type = Self.type(routedTo: batch[0].topic)
        for i in batch.indices { metrics.stored(mark, topic: topic, type: type, bodyBytes: batch[i].body.count) }
    }

    private static func type(routedTo topic: [UInt8]) -> BrokerMetrics.MessageType {
        topic == halfTopic ? .transaction : topic == scheduleTopic || topic == timerTopic ? .delay : .normal
    }

    /// A pull of `group` on `queue` answered `count` records of `bytes`, the next pull starting at `next`.
    func pulled(group: String, queue: QueueKey, count: Int, bytes: Int, next: Int64) {
        guard metrics.isRecording else { return }
        let key = ConsumerOffsetKey(group: group, queue: queue)
        let known: BrokerMetrics.Outbound? = pulled.withLock { p in
            if let i = p.index(forKey: key) {
                p.values[i].next = next
                return p.values[i].outbound
            }
            guard p.count < metrics.labelLimit * 16 else { return nil }
            let outbound = metrics.outbound(group: group, topic: queue.topic)
            p[key] = Pulled(next: next, outbound: outbound)
            return outbound
        }
        guard count > 0 else { return }
        let out = known ?? metrics.outbound(group: group, topic: queue.topic)
        out.messages.increment(by: Int64(count))
        out.bytes.increment(by: Int64(bytes))
    }

    /// One message of `group`, consumed from `topic`, went to the group's dead-letter queue.
    func deadLettered(group: String, topic: String) {
        guard metrics.isRecording else { return }
        metrics.deadLettered(group: group, topic: topic).increment()
    }
}

extension BrokerMetering {
    /// Brings the scrape-time gauges up to date (runs on the ops HTTP server's task for each scrape).
    func refresh(context: BrokerContext, openConnections: Int, longPollHolds: Int) {
        let g = metrics.gauges, store = context.store
        let nowMillis = context.clock.wallMillis()
        refreshConsumers(store: store, nowMillis: nowMillis)
        let oldest = store.message(at: store.minPhysicalOffset)?.record.storeTimestamp
        g.storageReserveTime.set(Double(oldest.map { max(0, nowMillis - $0) } ?? 0))
        g.dispatchBehindBytes.set(Double(store.dispatchLagBytes))
        g.flushBehindBytes.set(Double(max(0, store.maxPhysicalOffset - store.flushedOffset)))
        g.segments.set(Double(store.segments.count))
        g.logBytes.set(Double(store.maxPhysicalOffset - store.minPhysicalOffset))
        if let disk = store.diskUsage {
            g.diskTotalBytes.set(Double(disk.total))
            g.diskFreeBytes.set(Double(disk.free))
            g.diskUsedRatio.set(disk.usedRatio)
        }
        let slaves = context.replication.master?.acks.slaves ?? []
        var lagMax: Int64 = 0
        for slave in slaves {
            let lag = max(0, store.maxPhysicalOffset - max(0, slave.acked))
            g.replicationLag.set([slave.peer], Double(lag))
            lagMax = max(lagMax, lag)
        }
        g.replicationLag.sweep()
        g.replicationLagMax.set(Double(lagMax))
        g.replicationSlaves.set(Double(slaves.count))
        g.connections.set(Double(openConnections))
        g.longPollHolds.set(Double(longPollHolds))
        let flow = context.flow
        g.fastFailures.update(total: Int64(flow.fastFailures.load(ordering: .relaxed)))
        g.overloaded.update(total: Int64(flow.overloaded.load(ordering: .relaxed)))
        g.rateLimited.update(total: Int64(flow.rateLimited.load(ordering: .relaxed)))
        g.duplicates.update(total: Int64(flow.duplicatesAnswered.load(ordering: .relaxed)))
    }

    /// Per topic and group: ready / inflight messages summed over the topic's queues, latencies the oldest.
    private func refreshConsumers(store: MessageStore, nowMillis: Int64) {
        struct Figures { var ready: Int64 = 0, inflight: Int64 = 0, queueing: Int64 = 0, lag: Int64 = 0 }
        let committed = (try? store.consumerOffsets()) ?? [:]
        let pulledNow = pulled.withLock { $0.mapValues(\.next) }
        var byGroup: [[String]: Figures] = [:]
        func age(_ queue: QueueKey, at offset: Int64, below max: Int64) -> Int64 {
            guard offset < max, let e = try? store.entries(queue, from: offset, maxCount: 1).first else { return 0 }
            return Swift.max(0, nowMillis - e.storeTimestamp)
        }
        for (key, commit) in committed {
            guard let range = try? store.queueRange(key.queue) else { continue }
            let pulledTo = Swift.min(Swift.max(pulledNow[key] ?? commit, commit), range.max)
            var f = byGroup[[key.queue.topic, key.group], default: Figures()]
            f.ready += Swift.max(0, range.max - pulledTo)
            f.inflight += Swift.max(0, pulledTo - commit)
            f.queueing = Swift.max(f.queueing, age(key.queue, at: pulledTo, below: range.max))
            f.lag = Swift.max(f.lag, age(key.queue, at: Swift.max(commit, range.min), below: range.max))
            byGroup[[key.queue.topic, key.group]] = f
        }
        let g = metrics.gauges
        for (labels, f) in byGroup {
            g.consumerReady.set(labels, Double(f.ready))
            g.consumerInflight.set(labels, Double(f.inflight))
            g.consumerQueueingLatency.set(labels, Double(f.queueing))
            g.consumerLagLatency.set(labels, Double(f.lag))
        }
        for family in [g.consumerReady, g.consumerInflight, g.consumerQueueingLatency, g.consumerLagLatency] { family.sweep() }
    }
}

extension BrokerMetering {
    /// `GET /metrics` for this broker: the registry, refreshed from the store and the server at each scrape.
    func endpoint(context: BrokerContext, server: RemotingServer, consumers: ConsumerProcessor) -> MetricsEndpoint {
        let endpoint = MetricsEndpoint(metrics)
        endpoint.onScrape { [self] in
            refresh(context: context, openConnections: server.openConnections, longPollHolds: consumers.pulls.suspendedCount)
        }
        return endpoint
    }
}

/// The store's flush and dispatch rounds into `tern_store_flush_latency_seconds` / `..._dispatch_...`.
struct StoreTimings: StoreObserver {
    let metrics: BrokerMetrics

    func flushed(bytes: Int64, nanos: UInt64) {
        if metrics.isRecording { metrics.storeFlushLatency.record(Int(truncatingIfNeeded: nanos)) }
    }
    func dispatched(records: Int, nanos: UInt64) {
        if metrics.isRecording { metrics.storeDispatchLatency.record(Int(truncatingIfNeeded: nanos)) }
    }
}
