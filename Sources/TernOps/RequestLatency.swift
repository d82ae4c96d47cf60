import NIOCore
import Prometheus
import TernTransport

/// `rocketmq_rpc_latency` (milliseconds, RocketMQ's unit and buckets) by `request_code` and `response_code`:
/// from the start of the read burst that carried the request (`RemotingConnection.readBurstStartNanos`, so
/// the wait behind the burst's earlier frames counts, and taking a request reads no clock) to its answer.
/// An answer given while its burst is delivered leaves with the burst's coalesced answers: with the broker's
/// ``BurstTally`` open it is counted there and observed once at the burst's end (one clock read per burst);
/// any other answer reads the clock when given. Recorded without a lock (``AtomicHistogram``).
public final class RequestLatency: Sendable {
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
        histograms[Codes(request: requestCode, response: responseCode)].record(Int(truncatingIfNeeded: nanos))
    }

    func histogram(_ codes: Codes) -> AtomicHistogram { histograms[codes] }

    /// The observer a server's request handler puts on each responder (`RemotingResponder.observer`), and when.
    public var observer: any RemotingResponseObserver { Observer(latency: self) }
    public static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    private struct Observer: RemotingResponseObserver {
        let latency: RequestLatency
        func answered(requestCode: Int, responseCode: Int, receivedNanos: UInt64) {
            // Answered while its own read burst is delivered: counted in the burst, observed when it ends.
            let tally = BurstTally.current
            if tally.burstStart == receivedNanos, tally.metrics?.rpc === latency,
               tally.answered(Codes(request: requestCode, response: responseCode), by: latency) { return }
            // A request answered before its burst's start was read (never on a server) counts as 0 ms.
            let now = RequestLatency.now()
            latency.record(requestCode: requestCode, responseCode: responseCode, nanos: now > receivedNanos ? now - receivedNanos : 0)
        }
    }
}

extension RemotingResponder {
    /// This responder, reporting its answer to `latency` (nil: unchanged). Called on the event loop while the
    /// request's read burst is delivered, so the burst's start is the request's arrival.
    public func timed(by latency: RequestLatency?) -> RemotingResponder {
        guard let latency else { return self }
        var r = self
        r.observer = latency.observer
        r.receivedNanos = connection.readBurstStartNanos
        return r
    }
}
