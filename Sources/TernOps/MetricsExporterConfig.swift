/// RocketMQ 5.1's exporter switch: `metricsExporterType=PROM` serves `GET /metrics` on
/// `metricsPromExporterHost:metricsPromExporterPort` (default 5557); `DISABLE` (the default) serves nothing.
public struct MetricsExporterConfig: Sendable, Equatable {
    public enum ExporterType: String, Sendable, Equatable {
        case disable = "DISABLE"
        case prom = "PROM"
    }

    public static let defaultPort = 5557

    public var exporterType: ExporterType = .disable
    /// Loopback unless the operator says otherwise, like every Tern listener.
    public var host = "127.0.0.1"
    /// 0: an ephemeral port (tests).
    public var port = MetricsExporterConfig.defaultPort
    /// `metricsRecordingToggleEnable` (Tern, benchmarks only, default false): the broker serves
    /// SET_METRICS_RECORDING (9120), which pauses and resumes recording at runtime, so a benchmark compares
    /// recording on and off on one process, alternating every second, instead of two brokers started apart.
    public var recordingToggleEnable = false

    public init() {}

    public var enabled: Bool { exporterType == .prom }

    /// Sets `metricsExporterType`, `metricsPromExporterHost`, `metricsPromExporterPort` or
    /// `metricsRecordingToggleEnable`. Returns false for
    /// any other key; throws a readable reason for a bad value (RocketMQ's OTLP_GRPC / LOG exporters are not
    /// implemented, so asking for them fails rather than silently exporting nothing).
    public mutating func set(_ key: String, _ value: String) throws(MetricsConfigError) -> Bool {
        switch key {
        case "metricsExporterType":
            guard let t = ExporterType(rawValue: value.uppercased()) else {
                throw MetricsConfigError(key: key, value: value, reason: "expected PROM or DISABLE (OTLP_GRPC and LOG are not implemented)")
            }
            exporterType = t
        case "metricsPromExporterHost":
            guard !value.isEmpty else { throw MetricsConfigError(key: key, value: value, reason: "expected a host address") }
            host = value
        case "metricsPromExporterPort":
            guard let p = Int(value), (0...65535).contains(p) else {
                throw MetricsConfigError(key: key, value: value, reason: "expected a port in 0...65535")
            }
            port = p
        case "metricsRecordingToggleEnable":
            guard let b = Bool(value.lowercased()) else {
                throw MetricsConfigError(key: key, value: value, reason: "expected true or false")
            }
            recordingToggleEnable = b
        default:
            return false
        }
        return true
    }
}

public struct MetricsConfigError: Error, Sendable {
    public var key: String
    public var value: String
    public var reason: String
}
