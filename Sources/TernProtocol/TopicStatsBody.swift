/// Body of GET_TOPIC_STATS_INFO (202) in Tern's own JSON form. Java's `TopicStatsTable` keys its map by
/// `MessageQueue` objects, which fastjson writes as object keys (not JSON); this is a plain list instead.
public struct TopicStatsBody: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var brokerName: String
        public var queueId: Int
        public var minOffset: Int64
        /// Next offset to be written (= messages ever stored in the queue).
        public var maxOffset: Int64
        /// Store time (ms) of the newest message in the queue; 0 when empty.
        public var lastUpdateTimestamp: Int64

        public init(brokerName: String, queueId: Int, minOffset: Int64, maxOffset: Int64, lastUpdateTimestamp: Int64) {
            self.brokerName = brokerName
            self.queueId = queueId
            self.minOffset = minOffset
            self.maxOffset = maxOffset
            self.lastUpdateTimestamp = lastUpdateTimestamp
        }
    }

    public var offsetTable: [Entry]

    public init(offsetTable: [Entry]) { self.offsetTable = offsetTable }
}

/// Body of GET_BROKER_RUNTIME_INFO (28): RocketMQ's `KVTable` form, `{"table":{"key":"value",...}}`.
public struct BrokerRuntimeInfoBody: Codable, Sendable, Equatable {
    public var table: [String: String]

    public init(table: [String: String]) { self.table = table }
}
