/// Body of GET_CONSUMER_LIST_BY_GROUP (38)'s answer.
public struct ConsumerListBody: Codable, Sendable, Equatable {
    public var consumerIdList: [String]
    public init(consumerIdList: [String]) { self.consumerIdList = consumerIdList }
}

/// Tern's GET_CONSUME_STATS (208) answer: per queue, the broker's max offset against the group's committed one.
/// (Java's `ConsumeStats` keys a map by `MessageQueue` objects, which is not valid JSON; this is a list.)
public struct ConsumeStatsBody: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var topic: String
        public var brokerName: String
        public var queueId: Int
        public var brokerOffset: Int64
        public var consumerOffset: Int64
        /// Store time of the last consumed message (0 when nothing was consumed).
        public var lastTimestamp: Int64

        public init(topic: String, brokerName: String, queueId: Int, brokerOffset: Int64, consumerOffset: Int64,
                    lastTimestamp: Int64) {
            self.topic = topic
            self.brokerName = brokerName
            self.queueId = queueId
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

    /// Messages not yet consumed by the group, summed over the queues.
    public var diffTotal: Int64 { offsetTable.reduce(0) { $0 + max(0, $1.brokerOffset - $1.consumerOffset) } }
}

/// GET_ALL_CONSUMER_OFFSET (43) answer (`ConsumerOffsetSerializeWrapper`): `"topic@group"` → queueId → offset.
/// Queue ids are quoted keys here (Java writes them unquoted, which strict JSON parsers reject).
public struct ConsumerOffsetSerializeWrapper: Codable, Sendable, Equatable {
    public var offsetTable: [String: [String: Int64]]
    public init(offsetTable: [String: [String: Int64]]) { self.offsetTable = offsetTable }
}

/// GET_CONSUMER_CONNECTION_LIST (203) answer (`ConsumerConnection`).
public struct ConsumerConnectionBody: Codable, Sendable, Equatable {
    public struct Connection: Codable, Sendable, Equatable, Hashable {
        public var clientId: String
        public var clientAddr: String
        public var language: String
        public var version: Int
        public init(clientId: String, clientAddr: String, language: String, version: Int) {
            self.clientId = clientId
            self.clientAddr = clientAddr
            self.language = language
            self.version = version
        }
    }
    public var connectionSet: [Connection]
    public var subscriptionTable: [String: SubscriptionData]
    public var consumeType: String
    public var messageModel: String
    public var consumeFromWhere: String

    public init(connectionSet: [Connection], subscriptionTable: [String: SubscriptionData], consumeType: ConsumeType,
                messageModel: MessageModel, consumeFromWhere: ConsumeFromWhere) {
        self.connectionSet = connectionSet
        self.subscriptionTable = subscriptionTable
        self.consumeType = consumeType.javaName
        self.messageModel = messageModel.javaName
        self.consumeFromWhere = consumeFromWhere.javaName
    }
}
