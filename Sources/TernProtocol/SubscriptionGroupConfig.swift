/// A consumer group's broker-side settings (Java's `SubscriptionGroupConfig`, 4.9.x fields and defaults). Missing
/// fields decode to their defaults, so Java's `subscriptionGroup.json` and admin bodies read as they are.
public struct SubscriptionGroupConfig: Codable, Sendable, Equatable {
    public var groupName: String
    /// false: pulls are refused with NO_PERMISSION.
    public var consumeEnable = true
    public var consumeFromMinEnable = true
    /// false: a BROADCASTING consumer of the group is refused with NO_PERMISSION.
    public var consumeBroadcastEnable = true
    public var retryQueueNums = 1
    /// Deliveries before a message goes to the dead-letter topic (when the client does not say).
    public var retryMaxTimes = 16
    public var brokerId: Int64 = 0
    public var whichBrokerWhenConsumeSlowly: Int64 = 1
    public var notifyConsumerIdsChangedEnable = true

    public init(groupName: String, retryMaxTimes: Int = 16) {
        self.groupName = groupName
        self.retryMaxTimes = retryMaxTimes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        groupName = try c.decode(String.self, forKey: .groupName)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        consumeEnable = try value(.consumeEnable, true)
        consumeFromMinEnable = try value(.consumeFromMinEnable, true)
        consumeBroadcastEnable = try value(.consumeBroadcastEnable, true)
        retryQueueNums = try value(.retryQueueNums, 1)
        retryMaxTimes = try value(.retryMaxTimes, 16)
        brokerId = try value(.brokerId, 0)
        whichBrokerWhenConsumeSlowly = try value(.whichBrokerWhenConsumeSlowly, 1)
        notifyConsumerIdsChangedEnable = try value(.notifyConsumerIdsChangedEnable, true)
    }
}

/// `config/subscriptionGroup.json` and the GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) body: Java writes its
/// `SubscriptionGroupManager` (getters `getDataVersion`, `getSubscriptionGroupTable`).
public struct SubscriptionGroupWrapper: Codable, Sendable, Equatable {
    public var subscriptionGroupTable: [String: SubscriptionGroupConfig]
    public var dataVersion: DataVersion

    public init(subscriptionGroupTable: [String: SubscriptionGroupConfig], dataVersion: DataVersion) {
        self.subscriptionGroupTable = subscriptionGroupTable
        self.dataVersion = dataVersion
    }
}
