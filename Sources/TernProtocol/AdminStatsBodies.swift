/// `MessageQueue` as a fastjson map key: `{"brokerName":"b","queueId":0,"topic":"t"}`.
extension MessageQueue {
    public var fastJSON: FastJSON {
        .bean(["brokerName": .string(brokerName), "queueId": .integer(Int64(queueId)), "topic": .string(topic)])
    }

    public init(fastJSON v: FastJSON) throws {
        // Java's queueId is an int.
        self.init(topic: try v.field("topic", of: "MessageQueue", \.string),
                  brokerName: try v.field("brokerName", of: "MessageQueue", \.string),
                  queueId: Int(try v.field("queueId", of: "MessageQueue") { $0.int64.flatMap { Int32(exactly: $0) } }))
    }
}

/// Body of GET_TOPIC_STATS_INFO (202), Java's `admin.TopicStatsTable`:
/// `{"offsetTable":{{MessageQueue}:{"lastUpdateTimestamp":..,"maxOffset":..,"minOffset":..}}}` (`TopicOffset`).
public struct TopicStatsBody: FastJSONBody, Equatable {
    public struct Entry: Sendable, Equatable {
        public var queue: MessageQueue
        public var minOffset: Int64
        /// Next offset to be written (= messages ever stored in the queue).
        public var maxOffset: Int64
        /// Store time (ms) of the newest message in the queue; 0 when empty.
        public var lastUpdateTimestamp: Int64

        public init(queue: MessageQueue, minOffset: Int64, maxOffset: Int64, lastUpdateTimestamp: Int64) {
            self.queue = queue
            self.minOffset = minOffset
            self.maxOffset = maxOffset
            self.lastUpdateTimestamp = lastUpdateTimestamp
        }
    }

    public var offsetTable: [Entry]

    public init(offsetTable: [Entry]) { self.offsetTable = offsetTable }

    public var fastJSON: FastJSON {
        .bean(["offsetTable": .object(offsetTable.map { e in
            .init(e.queue.fastJSON, .bean(["lastUpdateTimestamp": .integer(e.lastUpdateTimestamp),
                                           "maxOffset": .integer(e.maxOffset), "minOffset": .integer(e.minOffset)]))
        })])
    }

    public init(fastJSON v: FastJSON) throws {
        let table = try v.field("offsetTable", of: "TopicStatsTable", \.members)
        offsetTable = try table.map { m in
            let t = "TopicOffset"
            return Entry(queue: try MessageQueue(fastJSON: m.key), minOffset: try m.value.field("minOffset", of: t, \.int64),
                         maxOffset: try m.value.field("maxOffset", of: t, \.int64),
                         lastUpdateTimestamp: m.value["lastUpdateTimestamp"]?.int64 ?? 0)
        }
    }
}

/// Body of GET_BROKER_RUNTIME_INFO (28) and other key/value answers: Java's `KVTable`, `{"table":{"key":"value"}}`.
public struct KVTableBody: FastJSONBody, Equatable {
    public var table: [String: String]

    public init(table: [String: String]) { self.table = table }

    public var fastJSON: FastJSON { .bean(["table": .stringMap(table)]) }

    public init(fastJSON v: FastJSON) throws {
        let members = try v.field("table", of: "KVTable", \.members)
        var table: [String: String] = [:]
        for m in members {
            guard let k = m.key.string, let value = m.value.string else { throw FastJSONError.field("table", in: "KVTable") }
            table[k] = value
        }
        self.table = table
    }
}

/// Body of GET_CONSUME_STATS (208), Java's `admin.ConsumeStats`: `{"consumeTps":0.0,"offsetTable":{{MessageQueue}:
/// {"brokerOffset":..,"consumerOffset":..,"lastTimestamp":..}}}` (`OffsetWrapper`).
public struct ConsumeStatsBody: FastJSONBody, Equatable {
    public struct Entry: Sendable, Equatable {
        public var queue: MessageQueue
        public var brokerOffset: Int64
        public var consumerOffset: Int64
        /// Store time of the last consumed message (0 when nothing was consumed).
        public var lastTimestamp: Int64

        public init(queue: MessageQueue, brokerOffset: Int64, consumerOffset: Int64, lastTimestamp: Int64) {
            self.queue = queue
            self.brokerOffset = brokerOffset
            self.consumerOffset = consumerOffset
            self.lastTimestamp = lastTimestamp
        }
    }

    public var offsetTable: [Entry]
    public var consumeTps: Double

    public init(offsetTable: [Entry], consumeTps: Double = 0) {
        self.offsetTable = offsetTable
        self.consumeTps = consumeTps
    }

    /// Messages not yet consumed by the group, summed over the queues (Java's `computeTotalDiff`).
    public var diffTotal: Int64 { offsetTable.reduce(0) { $0 + max(0, $1.brokerOffset - $1.consumerOffset) } }

    public var fastJSON: FastJSON {
        .bean(["consumeTps": .double(consumeTps), "offsetTable": .object(offsetTable.map { e in
            .init(e.queue.fastJSON, .bean(["brokerOffset": .integer(e.brokerOffset),
                                           "consumerOffset": .integer(e.consumerOffset),
                                           "lastTimestamp": .integer(e.lastTimestamp)]))
        })])
    }

    public init(fastJSON v: FastJSON) throws {
        consumeTps = v["consumeTps"]?.double ?? 0
        offsetTable = try v.field("offsetTable", of: "ConsumeStats", \.members).map { m in
            let t = "OffsetWrapper"
            return Entry(queue: try MessageQueue(fastJSON: m.key), brokerOffset: try m.value.field("brokerOffset", of: t, \.int64),
                         consumerOffset: try m.value.field("consumerOffset", of: t, \.int64),
                         lastTimestamp: m.value["lastTimestamp"]?.int64 ?? 0)
        }
    }
}
