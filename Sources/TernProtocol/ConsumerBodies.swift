/// Body of GET_CONSUMER_LIST_BY_GROUP (38)'s answer.
public struct ConsumerListBody: Codable, Sendable, Equatable {
    public var consumerIdList: [String]
    public init(consumerIdList: [String]) { self.consumerIdList = consumerIdList }
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
