import Foundation
import Synchronization
import TernRemoting
import TernSystem

/// Per-topic put and per-group get counters: totals since start, the running period and the last complete
/// period (TPS = last period's count / period). `roll` closes a period and returns one stats-log line per
/// topic / group that moved (or has a total), which FlowControl appends to `<store>/logs/stats.log`.
///
/// Counters are derived figures, not state: they restart at zero with the broker (as RocketMQ's do).
final class BrokerStats: Sendable {
    struct Counter: Sendable, Equatable {
        var total: Int64 = 0
        var current: Int64 = 0
        var lastPeriod: Int64 = 0

        mutating func add(_ n: Int64) {
            total += n
            current += n
        }
    }
    struct Figures: Sendable, Equatable {
        var total: Int64
        var lastPeriod: Int64
        var tps: Double
    }
    private struct State {
        var puts: [String: Counter] = [:]
        /// Keyed by group, then topic.
        var gets: [String: [String: Counter]] = [:]
        var periodMillis: Int64
    }
    private let state: Mutex<State>

    init(periodMillis: Int64) {
        state = Mutex(State(periodMillis: periodMillis))
    }

    func put(topic: String, count: Int) {
        guard count > 0 else { return }
        state.withLock { s in
            s.puts[topic, default: Counter()].add(Int64(count))  // one hash lookup per send
        }
    }

    func got(group: String, topic: String, count: Int) {
        guard count > 0 else { return }
        state.withLock { s in
            s.gets[group, default: [:]][topic, default: Counter()].add(Int64(count))
        }
    }

    private static func figures(_ c: Counter, _ period: Int64) -> Figures {
        Figures(total: c.total, lastPeriod: c.lastPeriod, tps: Double(c.lastPeriod) * 1000 / Double(period))
    }

    func putFigures(topic: String) -> Figures {
        state.withLock { Self.figures($0.puts[topic] ?? Counter(), $0.periodMillis) }
    }

    /// The group's gets, over all its topics or one.
    func getFigures(group: String, topic: String? = nil) -> Figures {
        state.withLock { s in
            var sum = Counter()
            for (t, c) in s.gets[group] ?? [:] where topic == nil || topic == t {
                sum.total += c.total
                sum.lastPeriod += c.lastPeriod
            }
            return Self.figures(sum, s.periodMillis)
        }
    }

    /// Puts and gets over every topic and group (the broker-wide figures of GET_BROKER_RUNTIME_INFO).
    func totals() -> (puts: Figures, gets: Figures) {
        state.withLock { s in
            var puts = Counter(), gets = Counter()
            for c in s.puts.values {
                puts.total += c.total
                puts.lastPeriod += c.lastPeriod
            }
            for c in s.gets.values.flatMap(\.values) {
                gets.total += c.total
                gets.lastPeriod += c.lastPeriod
            }
            return (Self.figures(puts, s.periodMillis), Self.figures(gets, s.periodMillis))
        }
    }

    /// Closes the running period; returns the stats-log lines for it, stamped `timestamp`.
    func roll(timestamp: String) -> [String] {
        state.withLock { s in
            var lines: [String] = []
            let period = s.periodMillis
            func line(_ kind: String, _ name: String, _ c: Counter) -> String {
                let tps = String(format: "%.2f", Double(c.lastPeriod) * 1000 / Double(period))
                return "\(timestamp) \(kind) \(name) total=\(c.total) period=\(c.lastPeriod) tps=\(tps)"
            }
            for topic in s.puts.keys.sorted() {
                s.puts[topic]!.lastPeriod = s.puts[topic]!.current
                s.puts[topic]!.current = 0
                lines.append(line("PUT", "topic=\(topic)", s.puts[topic]!))
            }
            for group in s.gets.keys.sorted() {
                for topic in s.gets[group]!.keys.sorted() {
                    s.gets[group]![topic]!.lastPeriod = s.gets[group]![topic]!.current
                    s.gets[group]![topic]!.current = 0
                    lines.append(line("GET", "group=\(group) topic=\(topic)", s.gets[group]![topic]!))
                }
            }
            return lines
        }
    }
}

extension FlowControl {
    /// The stats-log timer: closes a stats period every `statsPeriodMillis` of `clock` (the first one period
    /// after the broker started).
    func statsLogService(clock: any TernClock, events: LifecycleEvents?) -> TimerService {
        TimerService.periodic(name: "stats-log", clock: clock, periodMillis: config.statsPeriodMillis, events: events) { [self] in
            rollStats()
        }
    }

    /// GET_TOPIC_STATS_INFO (202) answer fields (Tern's addition; Java tools ignore them): puts since start,
    /// in the last stats period, and that period's TPS.
    func putStatsFields(topic: String) -> RemotingExtFields {
        let p = stats.putFigures(topic: topic)
        var f = RemotingExtFields()
        f.set("putTotal", p.total)
        f.set("putLastPeriod", p.lastPeriod)
        f["putTps"] = String(format: "%.2f", p.tps)
        return f
    }

    /// GET_CONSUME_STATS (208) answer fields: messages pulled by the group since start and in the last period.
    func getStatsFields(_ g: BrokerStats.Figures) -> RemotingExtFields {
        var f = RemotingExtFields()
        f.set("getTotal", g.total)
        f.set("getLastPeriod", g.lastPeriod)
        f["getTps"] = String(format: "%.2f", g.tps)
        return f
    }
}
