import ArgumentParser
import Foundation
import TernClient
import TernProtocol

/// mqadmin `statsAll`: per topic, the masters' put figures and each consuming group's get figures (315).
struct AdminStatsAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statsAll", abstract: "Put / get figures of every topic.")
    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Only this topic.") var topic: String?

    struct Row: Encodable {
        var topic: String
        var group: String
        var tps: Double
        var total: Int64
    }

    func run() async throws {
        try await common.run { admin in
            var rows: [Row] = []
            let topics: [String]
            if let topic { topics = [topic] } else { topics = try await admin.topicList().sorted() }
            // Per master: the groups with offsets on each topic (317), asked once.
            var consumers: [String: [String: Set<String>]] = [:]
            for t in topics {
                guard let masters = try? await admin.route(topic: t).masterAddresses else { continue }
                var put = Row(topic: t, group: "", tps: 0, total: 0)
                var gets: [String: Row] = [:]
                for a in masters {
                    if consumers[a] == nil {
                        var byTopic: [String: Set<String>] = [:]
                        for g in try await admin.brokerConsumeStats(address: a).groups {
                            for q in g.stats.flatMap(\.offsetTable) { byTopic[q.queue.topic, default: []].insert(g.group) }
                        }
                        consumers[a] = byTopic
                    }
                    if let s = try await admin.brokerStatsData(address: a, statsName: "TOPIC_PUT_NUMS", statsKey: t) {
                        put.tps += s.statsMinute.tps
                        put.total += s.statsDay.sum
                    }
                    for g in consumers[a]?[t] ?? [] {
                        guard let s = try await admin.brokerStatsData(address: a, statsName: "GROUP_GET_NUMS", statsKey: "\(t)@\(g)") else { continue }
                        gets[g, default: Row(topic: t, group: g, tps: 0, total: 0)].tps += s.statsMinute.tps
                        gets[g]!.total += s.statsDay.sum
                    }
                }
                rows.append(put)
                rows += gets.values.sorted { $0.group < $1.group }
            }
            if common.json { return common.printJSON(rows) }
            var table = AdminTable("#Topic", "#Consumer Group", "#TPS", "#Total since start")
            for r in rows { table.add(r.topic, r.group.isEmpty ? "(put)" : r.group, String(format: "%.2f", r.tps), String(r.total)) }
            table.print()
        }
    }
}

/// mqadmin `brokerConsumeStats`: every group's progress per queue on the brokers (317).
struct AdminBrokerConsumeStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "brokerConsumeStats",
                                                    abstract: "Consume progress of every group on a broker.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget
    @Option(name: .customShort("o"), help: "Only order topics.") var isOrder = false

    struct Row: Encodable {
        var broker: String
        var group: String
        var topic: String
        var queueId: Int
        var brokerOffset: Int64
        var consumerOffset: Int64
        var diff: Int64
        var lastTimestamp: Int64
    }

    func run() async throws {
        try await common.run { admin in
            var rows: [Row] = []
            var totalDiff: Int64 = 0
            for a in try await target.addresses(admin) {
                let body = try await admin.brokerConsumeStats(address: a, isOrder: isOrder)
                totalDiff += body.totalDiff
                for g in body.groups {
                    for e in g.stats.flatMap(\.offsetTable) {
                        rows.append(Row(broker: e.queue.brokerName, group: g.group, topic: e.queue.topic, queueId: e.queue.queueId,
                                        brokerOffset: e.brokerOffset, consumerOffset: e.consumerOffset,
                                        diff: e.brokerOffset - e.consumerOffset, lastTimestamp: e.lastTimestamp))
                    }
                }
            }
            if common.json { return common.printJSON(rows) }
            var table = AdminTable("#Topic", "#Group", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime")
            for r in rows {
                table.add(r.topic, r.group, r.broker, String(r.queueId), String(r.brokerOffset), String(r.consumerOffset),
                          String(r.diff), formatMillis(r.lastTimestamp))
            }
            table.print()
            print("\nDiff Total: \(totalDiff)")
        }
    }
}
