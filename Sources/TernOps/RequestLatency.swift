import NIOCore
import Prometheus
import TernTransport

/// `rocketmq_rpc_latency` (milliseconds, RocketMQ's unit and buckets) by `request_code` and `response_code`:
/// from the moment the server's handler took the request to its answer. Broker and name server alike.
public final class RequestLatency: Sendable {
    public static let buckets: [Double] = [1, 3, 5, 10, 30, 50, 100, 300, 500, 1_000, 3_000, 5_000, 10_000]

    struct Codes: Hashable, Sendable { var request: Int, response: Int }
    private let histograms: LabelledCache<Codes, ValueHistogram>

    public init(registry: PrometheusCollectorRegistry, node: MetricsNode, labelLimit: Int) {
        let base = node.labels
        histograms = LabelledCache(limit: labelLimit, overflowKey: Codes(request: -1, response: -1)) { k in
            registry.makeValueHistogram(descriptor: PrometheusCollectorRegistry.descriptor(
                                            "rocketmq_rpc_latency", "Request latency, ms: taken to answered."),
                                        labels: base + [("request_code", "\(k.request)"), ("response_code", "\(k.response)")],
                                        buckets: Self.buckets)
        }
    }

    public func record(requestCode: Int, responseCode: Int, nanos: UInt64) {
        histograms[Codes(request: requestCode, response: responseCode)].record(Double(nanos) / 1_000_000)
    }

    /// The observer a server's request handler puts on each responder (`RemotingResponder.observer`), and when.
    public var observer: any RemotingResponseObserver { Observer(latency: self) }
    public static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    private struct Observer: RemotingResponseObserver {
        let latency: RequestLatency
        func answered(requestCode: Int, responseCode: Int, receivedNanos: UInt64) {
            latency.record(requestCode: requestCode, responseCode: responseCode, nanos: RequestLatency.now() &- receivedNanos)
        }
    }
}

extension RemotingResponder {
    /// This responder, reporting its answer to `latency` (nil: unchanged).
    public func timed(by latency: RequestLatency?) -> RemotingResponder {
        guard let latency else { return self }
        var r = self
        r.observer = latency.observer
        r.receivedNanos = RequestLatency.now()
        return r
    }
}
