import Histogram
import Synchronization
import TernClient
import TernRemoting

/// The broker's stamps on one pull answer (monotonic uptime ns, same clock as ours: the broker runs on this host
/// with `TERN_TRACE_PULL` set; see the broker's PullTrace.swift). Nil when the answer carries none.
struct BrokerStamps {
    var received: UInt64, arrived: UInt64, woken: UInt64, answered: UInt64

    init?(_ fields: RemotingExtFields) {
        guard let answered = fields.int64("traceAnswered"), let received = fields.int64("traceReceived") else { return nil }
        self.answered = UInt64(answered)
        self.received = UInt64(received)
        self.arrived = UInt64(fields.int64("traceArrived") ?? 0)
        self.woken = UInt64(fields.int64("traceWoken") ?? 0)
    }
}

/// Per-stage split of a latency: p50 / p99 of each stage, and where the slowest 1 % spent their time (mean of
/// each stage over the samples whose total is at or above the p99).
final class StageSplit: Sendable {
    struct Stage: Sendable {
        var key: String
        var label: String
    }

    /// `stage.<key>...` for delivery, `sendStage.<key>...` for the send answer.
    let prefix: String
    let title: String
    let stages: [Stage]
    private var stride: Int { stages.count + 1 }
    private static let absent = UInt64.max
    /// Per sample: total, then each stage in µs (`absent` where the stage does not apply), flat.
    private let samples = Mutex<[UInt64]>([])

    /// `expected`: samples to reserve room for up front. Grown on the way instead, the table doubled by copying
    /// (16 MiB and more at 50 k msg/s for 10 s) while the recording loop held its lock: a stall of milliseconds
    /// charged to the messages behind it.
    init(prefix: String, title: String, expected: Int = 0, stages: [Stage]) {
        self.prefix = prefix
        self.title = title
        self.stages = stages
        samples.withLock { $0.reserveCapacity(expected * (stages.count + 1)) }
    }

    /// A held pull (parked until the message was indexed): send → dispatched (client send, broker append,
    /// indexing), dispatched → woken (hop to the pull's event loop), woken → answered (read + encode). A pull
    /// answered at once (the message was indexed before the pull came): send → pull read, pull read → answered.
    /// Both: answered → client (write, loopback, the client's event loop and decode).
    static func delivery(expected: Int = 0) -> StageSplit {
        StageSplit(prefix: "stage", title: "delivery stage split", expected: expected, stages: [
            Stage(key: "sendToDispatched", label: "send → dispatched"),
            Stage(key: "dispatchedToWoken", label: "dispatched → woken"),
            Stage(key: "wokenToAnswered", label: "woken → answered"),
            Stage(key: "sendToPullRead", label: "send → pull read (not held)"),
            Stage(key: "pullReadToAnswered", label: "pull read → answered (not held)"),
            Stage(key: "answeredToClient", label: "answered → client"),
        ])
    }

    /// The send answer: client → broker read (encode, write, loopback, the socket until the broker reads it),
    /// read → handled (earlier frames of the same read burst), handled → stored (decode, checks, append),
    /// stored → answered (answer fields), answered → client (the burst's coalesced write, loopback, the
    /// client's event loop).
    static func send(expected: Int = 0) -> StageSplit {
        StageSplit(prefix: "sendStage", title: "send-answer stage split", expected: expected, stages: [
            Stage(key: "clientToRead", label: "client → broker read"),
            Stage(key: "readToHandled", label: "read → handled"),
            Stage(key: "handledToStored", label: "handled → stored"),
            Stage(key: "storedToAnswered", label: "stored → answered"),
            Stage(key: "answeredToClient", label: "answered → client"),
        ])
    }

    private static func us(_ from: UInt64, _ to: UInt64) -> UInt64 { to > from ? (to - from) / 1000 : 0 }

    /// One delivered message (a `delivery()` split).
    func record(sent: UInt64, _ s: BrokerStamps, receivedAt now: UInt64) {
        let us = Self.us
        let held = s.arrived > 0
        record(total: us(sent, now), [
            held ? us(sent, s.arrived) : nil, held ? us(s.arrived, s.woken) : nil, held ? us(s.woken, s.answered) : nil,
            held ? nil : us(sent, s.received), held ? nil : us(s.received, s.answered), us(s.answered, now),
        ])
    }

    /// One send answer (a `send()` split).
    func record(sent: UInt64, _ s: SendTraceStamps, answeredAt now: UInt64) {
        let us = Self.us
        record(total: us(sent, now), [us(sent, s.arrived), us(s.arrived, s.handled), us(s.handled, s.stored),
                                      us(s.stored, s.answered), us(s.answered, now)])
    }

    private func record(total: UInt64, _ row: [UInt64?]) {
        precondition(row.count == stages.count)
        samples.withLock { s in
            s.append(total)
            for v in row { s.append(v ?? Self.absent) }
        }
    }

    /// The split as text lines and as `<prefix>.<key>.<p50Us|p99Us|tailMeanUs|count>` values (empty without stamps).
    func report() -> (text: String, values: [(String, Int)]) {
        let all = samples.withLock { $0 }
        let stride = self.stride
        let n = all.count / stride
        guard n > 0 else { return ("\(title): none (run the broker with TERN_TRACE_PULL=1)", []) }
        var total = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for i in 0 ..< n { _ = total.record(max(1, all[i * stride])) }
        let tailFrom = total.valueAtPercentile(99)
        var text = "\(title) (µs, \(n) traced; tail = the \(Int(total.count(within: tailFrom ... total.max))) at or above p99 \(tailFrom)):"
        var values: [(String, Int)] = []
        for (index, stage) in stages.enumerated() {
            let column = 1 + index
            var h = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
            var tailSum: UInt64 = 0, tailCount: UInt64 = 0
            for i in 0 ..< n where all[i * stride + column] != Self.absent {
                let v = all[i * stride + column]
                _ = h.record(max(1, v))
                if all[i * stride] >= tailFrom { tailSum += v; tailCount += 1 }
            }
            guard h.totalCount > 0 else { continue }
            let p50 = h.valueAtPercentile(50), p99 = h.valueAtPercentile(99)
            let tailMean = tailCount > 0 ? tailSum / tailCount : 0
            text += "\n  \(stage.label): n \(h.totalCount)  p50 \(p50)  p99 \(p99)  tail mean \(tailMean) (n \(tailCount))"
            values += [("\(prefix).\(stage.key).count", Int(h.totalCount)), ("\(prefix).\(stage.key).p50Us", Int(p50)),
                       ("\(prefix).\(stage.key).p99Us", Int(p99)), ("\(prefix).\(stage.key).tailMeanUs", Int(tailMean))]
        }
        return (text, values)
    }
}
