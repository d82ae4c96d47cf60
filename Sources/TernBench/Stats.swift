import Foundation
import Histogram
import NIOCore
import Synchronization
import TernSystem

/// Counters and a latency histogram (µs) shared by completion callbacks on any thread.
final class BenchStats: Sendable {
    private struct State {
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var messages = 0
        var bytes = 0
        var errors = 0
        var firstError: String?
        var lastActivity = NIODeadline.now()
    }
    private let state = Mutex(State())

    /// One completed operation of `latencyMicros` that moved `messages` messages of `bytes` bytes in total.
    func record(latencyMicros: UInt64, messages: Int = 1, bytes: Int) {
        state.withLock { s in
            _ = s.histogram.record(max(1, latencyMicros))
            s.messages += messages
            s.bytes += bytes
            if messages > 0 { s.lastActivity = NIODeadline.now() }
        }
    }

    /// Counts messages without a latency sample.
    func count(messages: Int, bytes: Int) {
        state.withLock { s in
            s.messages += messages
            s.bytes += bytes
            if messages > 0 { s.lastActivity = NIODeadline.now() }
        }
    }

    func error(_ error: any Error) {
        state.withLock { s in
            s.errors += 1
            if s.firstError == nil { s.firstError = "\(error)" }
        }
    }

    var messages: Int { state.withLock { $0.messages } }
    var lastActivity: NIODeadline { state.withLock { $0.lastActivity } }
    var snapshot: (messages: Int, bytes: Int, errors: Int) { state.withLock { ($0.messages, $0.bytes, $0.errors) } }

    func summary(mode: String, seconds: Double, extra: [String: Int] = [:]) -> Summary {
        state.withLock { s in
            let h = s.histogram
            let empty = h.totalCount == 0
            return Summary(
                mode: mode, messages: s.messages, bytes: s.bytes, errors: s.errors, firstError: s.firstError,
                seconds: seconds, msgPerSec: seconds > 0 ? Double(s.messages) / seconds : 0,
                mbPerSec: seconds > 0 ? Double(s.bytes) / seconds / 1_048_576 : 0,
                samples: Int(h.totalCount),
                p50Us: empty ? 0 : h.valueAtPercentile(50), p99Us: empty ? 0 : h.valueAtPercentile(99),
                p999Us: empty ? 0 : h.valueAtPercentile(99.9), maxUs: empty ? 0 : h.max, extra: extra)
        }
    }
}

struct Summary: Codable {
    var mode: String
    var messages: Int
    var bytes: Int
    var errors: Int
    var firstError: String?
    var seconds: Double
    var msgPerSec: Double
    var mbPerSec: Double
    var samples: Int
    var p50Us: UInt64
    var p99Us: UInt64
    var p999Us: UInt64
    var maxUs: UInt64
    var extra: [String: Int]

    func print(json: Bool, latencyLabel: String) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = (try? encoder.encode(self)) ?? Data()
            Swift.print(String(decoding: data, as: UTF8.self))
            return
        }
        Swift.print("\(mode): \(messages) messages in \(String(format: "%.2f", seconds)) s, errors \(errors)")
        if let firstError { Swift.print("first error: \(firstError)") }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { Swift.print("\(k): \(v)") }
        Swift.print(String(format: "throughput: %.0f msg/s, %.2f MB/s", msgPerSec, mbPerSec))
        Swift.print("\(latencyLabel) (µs, \(samples) samples): p50 \(p50Us)  p99 \(p99Us)  p99.9 \(p999Us)  max \(maxUs)")
    }
}

/// Updates a progress line on stderr every second until cancelled (only when stderr is a terminal: piped runs
/// and their parsers see the summary alone): rate, total, errors, and the share of `limit` done when known.
func progressTask(_ stats: BenchStats, label: String, limit: RunLimit? = nil) -> Task<Void, Never> {
    let line = TerminalProgress()
    guard line.isShown else { return Task {} }
    return Task {
        var last = 0
        var second = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { break }
            second += 1
            let s = stats.snapshot
            var text = "[\(second)s] \(label): \(s.messages - last) msg/s, total \(s.messages), errors \(s.errors)"
            switch limit {
            case .count(let n)?: text += ", " + TerminalProgress.percent(Double(s.messages), of: Double(n))
            case .duration(let seconds)?: text += ", " + TerminalProgress.percent(Double(second), of: seconds)
            case nil: break
            }
            line.update(text)
            last = s.messages
        }
        line.finish()
    }
}

/// CPU time (user + system, µs) this process used so far, from /proc/self/stat (utime and stime, in Linux's
/// USER_HZ ticks of 10 ms); nil where that file is missing or unreadable.
func processCPUMicros() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    // Fields after "(comm)": state is field 3, utime 14 and stime 15.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
    return (user + system) * 10_000
}

/// This process's CPU over a stretch of a run (the sends and their answers, start-up excluded), per message:
/// the client shares the machine's cores with the broker, so its cost per message is part of every figure.
struct ClientCPU {
    private let start = processCPUMicros()

    /// `clientCpuMicros` since init and `clientCpuNanosPerMessage` for `messages` messages (ns: the summary's
    /// extras are integers, and whole µs would round a cost of a few µs per message by up to a third); empty
    /// when /proc/self/stat is unreadable. Resolution: 10 ms of CPU (USER_HZ ticks).
    func report(messages: Int) -> [String: Int] {
        guard let start, let end = processCPUMicros() else { return [:] }
        let micros = end - start
        return ["clientCpuMicros": micros, "clientCpuNanosPerMessage": messages > 0 ? micros * 1000 / messages : 0]
    }
}

func elapsedSeconds(since start: NIODeadline) -> Double {
    Double((NIODeadline.now() - start).nanoseconds) / 1e9
}

func micros(since start: NIODeadline) -> UInt64 {
    UInt64(max(0, (NIODeadline.now() - start).nanoseconds / 1000))
}
