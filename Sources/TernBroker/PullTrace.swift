import Foundation
import NIOCore
import TernRemoting

/// Where a pull's time went, for latency analysis: monotonic uptime stamps (ns, `NIODeadline`, the same clock in
/// every process on the host) taken as the pull passes each stage, sent back as extra answer fields
/// (`traceReceived`, `traceArrived`, `traceWoken`, `traceAnswered`) that `tern-bench e2e` turns into a per-stage
/// split. Only when the broker runs with `TERN_TRACE_PULL` set (read once at start): off, a pull carries `nil`
/// and pays one branch per stage.
struct PullTrace: Sendable {
    static let enabled = ProcessInfo.processInfo.environment["TERN_TRACE_PULL"] != nil

    /// The request was handled (read, then answered or parked).
    var received: UInt64
    /// The dispatcher's hook took the parked pull off the table (0: answered without being held).
    var arrived: UInt64 = 0
    /// The woken pull's re-read began on its event loop.
    var woken: UInt64 = 0

    /// A trace starting now, or nil when tracing is off.
    static func start() -> PullTrace? { enabled ? PullTrace(received: now) : nil }

    static var now: UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// The stamps as answer fields; `answered` is taken here, just before the answer is encoded and written.
    func write(into fields: inout RemotingExtFields) {
        fields.set("traceReceived", Int64(received))
        fields.set("traceArrived", Int64(arrived))
        fields.set("traceWoken", Int64(woken))
        fields.set("traceAnswered", Int64(Self.now))
    }
}
