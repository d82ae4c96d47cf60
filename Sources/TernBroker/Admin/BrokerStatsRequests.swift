import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

/// mqadmin `statsAll` / `brokerConsumeStats` codes answered from the broker's own counters (`BrokerStats`).
enum BrokerStatsRequestCode {
    static let viewBrokerStatsData = 315
    static let getBrokerConsumeStats = 317
    static let all = [viewBrokerStatsData, getBrokerConsumeStats]
}

/// Per queue of `topic`: the max offset, `group`'s committed offset and the store time of the last consumed
/// message (Java's `OffsetWrapper`), shared by GET_CONSUME_STATS (208) and GET_BROKER_CONSUME_STATS (317).
enum ConsumeStatsQuery {
    static func entries(_ context: BrokerContext, group: String, topic: String, committed: [ConsumerOffsetKey: Int64]) -> [ConsumeStatsBody.Entry] {
        guard let config = context.topics.config(topic) else { return [] }
        return (0..<max(config.readQueueNums, config.writeQueueNums)).map { id in
            let queue = QueueKey(topic: topic, queueId: Int32(id))
            let brokerOffset = (try? context.store.queueRange(queue))??.max ?? 0
            let consumerOffset = max(0, committed[ConsumerOffsetKey(group: group, queue: queue)] ?? 0)
            var last: Int64 = 0
            if consumerOffset > 0, let e = try? context.store.entries(queue, from: consumerOffset - 1, maxCount: 1).first {
                last = e.storeTimestamp
            }
            return ConsumeStatsBody.Entry(queue: MessageQueue(topic: topic, brokerName: context.config.brokerName, queueId: id),
                                          brokerOffset: brokerOffset, consumerOffset: consumerOffset, lastTimestamp: last)
        }
    }
}

extension AdminProcessor {
    func brokerStatsRequest(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        if request.code == BrokerStatsRequestCode.getBrokerConsumeStats {
            return responder.respond(code: ResponseCode.success, body: brokerConsumeStats(isOrder: f.bool("isOrder") ?? false).encoded())
        }
        let name = f["statsName"] ?? "", key = f["statsKey"] ?? ""
        guard let data = Self.statsData(context, name: name, key: key) else {
            return responder.respond(code: ResponseCode.systemError, remark: "The stats <\(name)> <\(key)> not exist")
        }
        responder.respond(code: ResponseCode.success, body: data.encoded())
    }

    /// VIEW_BROKER_STATS_DATA for the message-count stats Tern keeps: `TOPIC_PUT_NUMS` (key topic),
    /// `GROUP_GET_NUMS` (key `topic@group`), `BROKER_PUT_NUMS` / `BROKER_GET_NUMS` (key cluster name).
    ///
    /// Tern counts totals since start and the last stats period (`statsPeriodMillis`, 60 s by default), not
    /// Java's sliding minute / hour / day windows: `statsMinute` carries the last period, `statsHour` and
    /// `statsDay` the total since start (their `sum` is an upper bound of Java's); every `tps` is the last
    /// period's. `avgpt` (Java's sum per call) is 0. Nil when Java would have no such stats item.
    static func statsData(_ context: BrokerContext, name: String, key: String) -> BrokerStatsDataBody? {
        let stats = context.flow.stats
        let figures: BrokerStats.Figures
        switch name {
        case "TOPIC_PUT_NUMS":
            guard context.topics.config(key) != nil else { return nil }
            figures = stats.putFigures(topic: key)
        case "GROUP_GET_NUMS":
            guard let at = key.lastIndex(of: "@") else { return nil }
            let topic = String(key[..<at]), group = String(key[key.index(after: at)...])
            figures = stats.getFigures(group: group, topic: topic)
            guard figures.total > 0 else { return nil }
        case "BROKER_PUT_NUMS", "BROKER_GET_NUMS":
            guard key == context.config.brokerClusterName else { return nil }
            let totals = stats.totals()
            figures = name == "BROKER_PUT_NUMS" ? totals.puts : totals.gets
        default:
            return nil
        }
        let all = BrokerStatsDataBody.Item(sum: figures.total, tps: figures.tps)
        return BrokerStatsDataBody(statsMinute: .init(sum: figures.lastPeriod, tps: figures.tps), statsHour: all, statsDay: all)
    }

    /// GET_BROKER_CONSUME_STATS (Java's `fetchAllConsumeStatsInBroker`): for every subscription group, one
    /// `ConsumeStats` per topic it has offsets on (order topics only when `isOrder`); a topic an online group no
    /// longer subscribes to is skipped.
    func brokerConsumeStats(isOrder: Bool) -> ConsumeStatsListBody {
        let committed = context.offsets.all()
        var topicsByGroup: [String: Set<String>] = [:]
        for key in committed.keys { topicsByGroup[key.group, default: []].insert(key.queue.topic) }
        var totalDiff: Int64 = 0
        let groups = context.groups.all.subscriptionGroupTable.keys.sorted().map { group -> ConsumeStatsListBody.Group in
            let online = context.clients.consumerGroup(group)?.subscriptions ?? [:]
            let stats = (topicsByGroup[group] ?? []).sorted().compactMap { topic -> ConsumeStatsBody? in
                guard let config = context.topics.config(topic), !isOrder || config.order else { return nil }
                if !online.isEmpty, online[topic] == nil { return nil }
                let body = ConsumeStatsBody(offsetTable: ConsumeStatsQuery.entries(context, group: group, topic: topic, committed: committed),
                                            consumeTps: context.flow.stats.getFigures(group: group, topic: topic).tps)
                totalDiff += body.diffTotal
                return body
            }
            return ConsumeStatsListBody.Group(group: group, stats: stats)
        }
        return ConsumeStatsListBody(brokerAddr: context.config.brokerAddress, groups: groups, totalDiff: totalDiff)
    }
}
