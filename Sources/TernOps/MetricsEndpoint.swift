import Hummingbird
import NIOCore
import Prometheus
import Synchronization

/// What `/metrics` renders: a process's metric families in Prometheus text format (0.0.4).
public protocol MetricsSource: Sendable {
    func emit(into buffer: inout [UInt8])
}

extension PrometheusCollectorRegistry: MetricsSource {}

/// `GET /metrics`: the source in Prometheus text format (0.0.4). Gauges that are computed rather than
/// counted (consumer lag, disk, replication) are brought up to date by the `refresh` closures first, so a
/// scrape costs the broker nothing between scrapes.
public final class MetricsEndpoint: OpsRoutes {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    public let source: any MetricsSource
    private let refreshers = Mutex<[@Sendable () -> Void]>([])

    public init(_ source: any MetricsSource) {
        self.source = source
    }

    /// Adds scrape-time work; it must be quick (it runs on the HTTP server's task for every scrape).
    public func onScrape(_ refresh: @escaping @Sendable () -> Void) {
        refreshers.withLock { $0.append(refresh) }
    }

    /// The exposition text after running the refreshers (what `/metrics` answers).
    public func scrape() -> [UInt8] {
        for r in refreshers.withLock({ $0 }) { r() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 * 1024)
        source.emit(into: &bytes)
        return bytes
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { [self] _, _ -> Response in
            let body = scrape()
            return Response(status: .ok, headers: [.contentType: Self.contentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
