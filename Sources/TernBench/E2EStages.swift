import Histogram
import Synchronization
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

/// Per-stage split of the end-to-end latency: p50 / p99 of each stage, and where the slowest 1 % of messages spent
/// their time (mean of each stage over the messages whose total is at or above the p99).
///
/// A held pull (parked until the message was indexed): send → dispatched (client send, broker append, indexing),
/// dispatched → woken (hop to the pull's event loop), woken → answered (read + encode). A pull answered at once
/// (the message was indexed before the pull came): send → pull read, pull read → answered. Both: answered →
/// client (write, loopback, the client's event loop and decode).
final class StageSplit: Sendable {
    enum Stage: Int, CaseIterable {
        case sendToDispatched, dispatchedToWoken, wokenToAnswered, sendToPullRead, pullReadToAnswered, answeredToClient

        var label: String {
            switch self {
            case .sendToDispatched: "send → dispatched"
            case .dispatchedToWoken: "dispatched → woken"
            case .wokenToAnswered: "woken → answered"
            case .sendToPullRead: "send → pull read (not held)"
            case .pullReadToAnswered: "pull read → answered (not held)"
            case .answeredToClient: "answered → client"
            }
        }
        var key: String { "\(self)" }
    }

    private static let stride = Stage.allCases.count + 1
    private static let absent = UInt64.max
    /// Per message: total, then each stage in µs (`absent` where the stage does not apply), flat.
    private let samples = Mutex<[UInt64]>([])

    func record(sent: UInt64, _ s: BrokerStamps, receivedAt now: UInt64) {
        func us(_ from: UInt64, _ to: UInt64) -> UInt64 { to > from ? (to - from) / 1000 : 0 }
        var row = [UInt64](repeating: Self.absent, count: Self.stride)
        row[0] = us(sent, now)
        if s.arrived > 0 {
            row[1 + Stage.sendToDispatched.rawValue] = us(sent, s.arrived)
            row[1 + Stage.dispatchedToWoken.rawValue] = us(s.arrived, s.woken)
            row[1 + Stage.wokenToAnswered.rawValue] = us(s.woken, s.answered)
        } else {
            row[1 + Stage.sendToPullRead.rawValue] = us(sent, s.received)
            row[1 + Stage.pullReadToAnswered.rawValue] = us(s.received, s.answered)
        }
        row[1 + Stage.answeredToClient.rawValue] = us(s.answered, now)
        samples.withLock { $0.append(contentsOf: row) }
    }

    /// The split as text lines and as `stage.<name>.<p50Us|p99Us|tailMeanUs|count>` values (empty without stamps).
    func report() -> (text: String, values: [(String, Int)]) {
        let all = samples.withLock { $0 }
        let n = all.count / Self.stride
        guard n > 0 else { return ("stage split: none (run the broker with TERN_TRACE_PULL=1)", []) }
        var total = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for i in 0 ..< n { _ = total.record(max(1, all[i * Self.stride])) }
        let tailFrom = total.valueAtPercentile(99)
        var text = "stage split (µs, \(n) traced messages; tail = the \(Int(total.count(within: tailFrom ... total.max))) at or above p99 \(tailFrom)):"
        var values: [(String, Int)] = []
        for stage in Stage.allCases {
            let column = 1 + stage.rawValue
            var h = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
            var tailSum: UInt64 = 0, tailCount: UInt64 = 0
            for i in 0 ..< n where all[i * Self.stride + column] != Self.absent {
                let v = all[i * Self.stride + column]
                _ = h.record(max(1, v))
                if all[i * Self.stride] >= tailFrom { tailSum += v; tailCount += 1 }
            }
            guard h.totalCount > 0 else { continue }
            let p50 = h.valueAtPercentile(50), p99 = h.valueAtPercentile(99)
            let tailMean = tailCount > 0 ? tailSum / tailCount : 0
            text += "\n  \(stage.label): n \(h.totalCount)  p50 \(p50)  p99 \(p99)  tail mean \(tailMean) (n \(tailCount))"
            values += [("stage.\(stage.key).count", Int(h.totalCount)), ("stage.\(stage.key).p50Us", Int(p50)),
                       ("stage.\(stage.key).p99Us", Int(p99)), ("stage.\(stage.key).tailMeanUs", Int(tailMean))]
        }
        return (text, values)
    }
}
