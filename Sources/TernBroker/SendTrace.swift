import TernRemoting
import TernTransport

/// Where a send's time went on the broker, under the same switch as `PullTrace` (`TERN_TRACE_PULL`): uptime
/// stamps sent back as extra answer fields that `tern-bench e2e` turns into a send-side split. Off, a send
/// pays one branch.
struct SendTrace {
    /// The read burst that carried the request began: the frame was in the socket by then.
    var arrived: UInt64
    /// The send processor took the request.
    var handled: UInt64

    /// A trace of the request just read from `connection`, or nil when tracing is off.
    static func start(_ connection: RemotingConnection) -> SendTrace? {
        PullTrace.enabled ? SendTrace(arrived: connection.readBurstStartNanos, handled: PullTrace.now) : nil
    }

    /// The stamps as answer fields (`traceArrived`, `traceHandled`, `traceStored`, `traceAnswered`);
    /// `answered` is taken here, just before the answer is encoded.
    func write(into fields: inout RemotingExtFields, stored: UInt64) {
        fields.set("traceArrived", Int64(arrived))
        fields.set("traceHandled", Int64(handled))
        fields.set("traceStored", Int64(stored))
        fields.set("traceAnswered", Int64(PullTrace.now))
    }
}
