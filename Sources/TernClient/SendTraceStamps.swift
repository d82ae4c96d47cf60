import TernRemoting

/// The broker's stage stamps on a send answer: monotonic uptime ns of the broker's host, present only when the
/// broker traces (`TERN_TRACE_PULL`; its SendTrace.swift). Comparable with this process's `NIODeadline`
/// uptime only when both run on one host (`tern-bench e2e` on loopback).
public struct SendTraceStamps: Sendable, Equatable {
    /// The read burst carrying the request began on the broker.
    public var arrived: UInt64
    /// The send processor took the request.
    public var handled: UInt64
    /// The append returned.
    public var stored: UInt64
    /// The answer was encoded.
    public var answered: UInt64

    /// Nil when the answer carries no stamps.
    init?(_ fields: RemotingExtFields) {
        guard let stored = fields.int64("traceStored"), let answered = fields.int64("traceAnswered") else { return nil }
        self.stored = UInt64(stored)
        self.answered = UInt64(answered)
        self.arrived = UInt64(fields.int64("traceArrived") ?? 0)
        self.handled = UInt64(fields.int64("traceHandled") ?? 0)
    }
}
