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
    /// One topic's puts. Created once per topic and never removed, so a sender may keep it (interned with the
    /// topic's config) and count without the lock or a hash lookup: two relaxed adds. `roll` moves `current`
    /// to `lastPeriod` under the lock; a concurrent add lands in either period (as under the lock it would).
    final class PutCounter: Sendable {
        private let total = Atomic<Int64>(0), current = Atomic<Int64>(0), lastPeriod = Atomic<Int64>(0)

        func add(_ count: Int) {
            guard count > 0 else { return }
            total.add(Int64(count), ordering: .relaxed)
            current.add(Int64(count), ordering: .relaxed)
        }

        var counter: Counter {
            Counter(total: total.load(ordering: .relaxed), current: current.load(ordering: .relaxed),
                    lastPeriod: lastPeriod.load(ordering: .relaxed))
        }

        /// Closes the running period.
        fileprivate func roll() { lastPeriod.store(current.exchange(0, ordering: .relaxed), ordering: .relaxed) }
    }
    struct Figures: Sendable, Equatable {
        var total: Int64
        var lastPeriod: Int64
        var tps: Double
    }
    private struct State {
        var puts: [String: PutCounter] = [:]
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
        putCounter(topic: topic).add(count)
    }

    /// `topic`'s put counter, created on first use (one hash lookup: senders keep it).
    func putCounter(topic: String) -> PutCounter {
        state.withLock { s in
            if let counter = s.puts[topic] { return counter }
            let counter = PutCounter()
            s.puts[topic] = counter
            return counter
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
        state.withLock { Self.figures($0.puts[topic]?.counter ?? Counter(), $0.periodMillis) }
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
            for c in s.puts.values.map(\.counter) {
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
                s.puts[topic]!.roll()
                lines.append(line("PUT", "topic=\(topic)", s.puts[topic]!.counter))
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
