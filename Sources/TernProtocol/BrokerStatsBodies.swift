/// Body of VIEW_BROKER_STATS_DATA (315), Java's `BrokerStatsData`: one `BrokerStatsItem`
/// (`{"avgpt":..,"sum":..,"tps":..}`) per window, `statsDay`, `statsHour`, `statsMinute`.
public struct BrokerStatsDataBody: FastJSONBody, Equatable {
    public struct Item: Sendable, Equatable {
        public var sum: Int64
        public var tps: Double
        public var avgpt: Double

        public init(sum: Int64, tps: Double, avgpt: Double = 0) {
            self.sum = sum
            self.tps = tps
            self.avgpt = avgpt
        }

        var fastJSON: FastJSON { .bean(["avgpt": .double(avgpt), "sum": .integer(sum), "tps": .double(tps)]) }

        init(fastJSON v: FastJSON?, window: String) throws {
            guard let v else { throw FastJSONError.field(window, in: "BrokerStatsData") }
            sum = try v.field("sum", of: "BrokerStatsItem", \.int64)
            tps = v["tps"]?.double ?? 0
            avgpt = v["avgpt"]?.double ?? 0
        }
    }

    public var statsMinute: Item
    public var statsHour: Item
    public var statsDay: Item

    public init(statsMinute: Item, statsHour: Item, statsDay: Item) {
        self.statsMinute = statsMinute
        self.statsHour = statsHour
        self.statsDay = statsDay
    }

    public var fastJSON: FastJSON {
        .bean(["statsDay": statsDay.fastJSON, "statsHour": statsHour.fastJSON, "statsMinute": statsMinute.fastJSON])
    }

    public init(fastJSON v: FastJSON) throws {
        statsMinute = try Item(fastJSON: v["statsMinute"], window: "statsMinute")
        statsHour = try Item(fastJSON: v["statsHour"], window: "statsHour")
        statsDay = try Item(fastJSON: v["statsDay"], window: "statsDay")
    }
}

/// Body of GET_BROKER_CONSUME_STATS (317), Java's `ConsumeStatsList`: `{"brokerAddr":..,"consumeStatsList":
/// [{"group":[ConsumeStats, one per topic]}, ...],"totalDiff":..}` — a list of one-entry maps, one per group.
public struct ConsumeStatsListBody: FastJSONBody, Equatable {
    public struct Group: Sendable, Equatable {
        public var group: String
        public var stats: [ConsumeStatsBody]

        public init(group: String, stats: [ConsumeStatsBody]) {
            self.group = group
            self.stats = stats
        }
    }

    public var brokerAddr: String
    public var groups: [Group]
    public var totalDiff: Int64

    public init(brokerAddr: String, groups: [Group], totalDiff: Int64) {
        self.brokerAddr = brokerAddr
        self.groups = groups
        self.totalDiff = totalDiff
    }

    public var fastJSON: FastJSON {
        .bean(["brokerAddr": .string(brokerAddr), "totalDiff": .integer(totalDiff),
               "consumeStatsList": .array(groups.map { g in
                   .object([.init(.string(g.group), .array(g.stats.map(\.fastJSON)))])
               })])
    }

    public init(fastJSON v: FastJSON) throws {
        let t = "ConsumeStatsList"
        brokerAddr = v["brokerAddr"]?.string ?? ""
        totalDiff = v["totalDiff"]?.int64 ?? 0
        groups = try v.field("consumeStatsList", of: t, \.elements).flatMap { map in
            guard let members = map.members else { throw FastJSONError.field("consumeStatsList", in: t) }
            return try members.map { m in
                guard let group = m.key.string, let list = m.value.elements else { throw FastJSONError.field("consumeStatsList", in: t) }
                return Group(group: group, stats: try list.map(ConsumeStatsBody.init(fastJSON:)))
            }
        }
    }
}
