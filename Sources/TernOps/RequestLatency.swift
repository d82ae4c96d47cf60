import NIOCore
import Prometheus
import TernTransport

/// `rocketmq_rpc_latency` (milliseconds, RocketMQ's unit and buckets) by `request_code` and `response_code`:
/// from the start of the read burst that carried the request (`RemotingConnection.readBurstStartNanos`, so
/// the wait behind the burst's earlier frames counts, and taking a request reads no clock) to its answer.
/// An answer given while its burst is delivered leaves with the burst's coalesced answers: with the broker's
/// per-connection ``BurstTally`` it is counted there and observed once at the burst's end (one clock read per
/// burst); any other answer reads the clock when given. Recorded without a lock (``AtomicHistogram``).
///
/// Itself the connection observer of a server without read-burst metrics (the name server): every answer is
/// observed when given.
public final class RequestLatency: RemotingResponseObserver, Sendable {
    public static let buckets: [Double] = [1, 3, 5, 10, 30, 50, 100, 300, 500, 1_000, 3_000, 5_000, 10_000]

    struct Codes: Hashable, Sendable { var request: Int, response: Int }
    let family = HistogramFamily("rocketmq_rpc_latency", "Request latency, ms: taken to answered.",
                                 bounds: RequestLatency.buckets, scale: 1_000_000)
    private let histograms: LabelledCache<Codes, AtomicHistogram>

    public init(node: MetricsNode, labelLimit: Int) {
        let base = node.labels, family = family
        histograms = LabelledCache(limit: labelLimit, overflowKey: Codes(request: -1, response: -1)) { k in
            family.makeHistogram(labels: base + [("request_code", "\(k.request)"), ("response_code", "\(k.response)")])
        }
    }

    public func record(requestCode: Int, responseCode: Int, nanos: UInt64) {
        record(Codes(request: requestCode, response: responseCode), nanos: nanos)
    }

    func record(_ codes: Codes, nanos: UInt64) { histograms[codes].record(Int(truncatingIfNeeded: nanos)) }

    func histogram(_ codes: Codes) -> AtomicHistogram { histograms[codes] }

    public static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Observes the answer now; a request answered before its burst's start was read counts as 0 ms.
    public func answered(requestCode: Int, responseCode: Int, receivedNanos: UInt64) {
        let now = RequestLatency.now()
        record(requestCode: requestCode, responseCode: responseCode, nanos: now > receivedNanos ? now - receivedNanos : 0)
    }
}
