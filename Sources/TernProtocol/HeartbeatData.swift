import Foundation

/// `HeartbeatData` (HEART_BEAT body, remoting.md §6), decoded leniently: C++ writes enums as ordinals and
/// omits empty arrays, Java writes enum names; `subVersion` may be a string or a number. We encode Java's
/// form (enum names), which every broker accepts.
public struct HeartbeatData: Codable, Sendable, Equatable {
    public var clientID: String
    public var producerDataSet: [ProducerData]
    public var consumerDataSet: [ConsumerData]

    public init(clientID: String, producerDataSet: [ProducerData] = [], consumerDataSet: [ConsumerData] = []) {
        self.clientID = clientID
        self.producerDataSet = producerDataSet
        self.consumerDataSet = consumerDataSet
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clientID = try c.decodeIfPresent(String.self, forKey: .clientID) ?? ""
        producerDataSet = try c.decodeIfPresent([ProducerData].self, forKey: .producerDataSet) ?? []
        consumerDataSet = try c.decodeIfPresent([ConsumerData].self, forKey: .consumerDataSet) ?? []
    }
}

public struct ProducerData: Codable, Sendable, Equatable {
    public var groupName: String
    public init(groupName: String) { self.groupName = groupName }
}

/// `CONSUME_ACTIVELY` (pull) or `CONSUME_PASSIVELY` (push).
public enum ConsumeType: Int, Sendable, Equatable, CaseIterable, LenientEnum {
    case consumeActively = 0, consumePassively = 1
    public var javaName: String { self == .consumeActively ? "CONSUME_ACTIVELY" : "CONSUME_PASSIVELY" }
}

public enum MessageModel: Int, Sendable, Equatable, CaseIterable, LenientEnum {
    case broadcasting = 0, clustering = 1
    public var javaName: String { self == .broadcasting ? "BROADCASTING" : "CLUSTERING" }
}

public enum ConsumeFromWhere: Int, Sendable, Equatable, CaseIterable, LenientEnum {
    case lastOffset = 0, lastOffsetAndFromMinWhenBootFirst = 1, minOffset = 2, maxOffset = 3, firstOffset = 4, timestamp = 5
    public var javaName: String {
        switch self {
        case .lastOffset: "CONSUME_FROM_LAST_OFFSET"
        case .lastOffsetAndFromMinWhenBootFirst: "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST"
        case .minOffset: "CONSUME_FROM_MIN_OFFSET"
        case .maxOffset: "CONSUME_FROM_MAX_OFFSET"
        case .firstOffset: "CONSUME_FROM_FIRST_OFFSET"
        case .timestamp: "CONSUME_FROM_TIMESTAMP"
        }
    }
}

public struct ConsumerData: Codable, Sendable, Equatable {
    public var groupName: String
    public var consumeType: ConsumeType
    public var messageModel: MessageModel
    public var consumeFromWhere: ConsumeFromWhere
    public var subscriptionDataSet: [SubscriptionData]
    public var unitMode: Bool

    enum CodingKeys: String, CodingKey {
        case groupName, consumeType, messageModel, consumeFromWhere, subscriptionDataSet, unitMode
    }

    public init(groupName: String, consumeType: ConsumeType = .consumePassively, messageModel: MessageModel = .clustering,
                consumeFromWhere: ConsumeFromWhere = .lastOffset, subscriptionDataSet: [SubscriptionData] = [],
                unitMode: Bool = false) {
        self.groupName = groupName
        self.consumeType = consumeType
        self.messageModel = messageModel
        self.consumeFromWhere = consumeFromWhere
        self.subscriptionDataSet = subscriptionDataSet
        self.unitMode = unitMode
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        groupName = try c.decodeIfPresent(String.self, forKey: .groupName) ?? ""
        consumeType = try ConsumeType.decodeLeniently(c, .consumeType) ?? .consumePassively
        messageModel = try MessageModel.decodeLeniently(c, .messageModel) ?? .clustering
        consumeFromWhere = try ConsumeFromWhere.decodeLeniently(c, .consumeFromWhere) ?? .lastOffset
        subscriptionDataSet = try c.decodeIfPresent([SubscriptionData].self, forKey: .subscriptionDataSet) ?? []
        unitMode = (try? c.decodeIfPresent(Bool.self, forKey: .unitMode)) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(groupName, forKey: .groupName)
        try c.encode(consumeType.javaName, forKey: .consumeType)
        try c.encode(messageModel.javaName, forKey: .messageModel)
        try c.encode(consumeFromWhere.javaName, forKey: .consumeFromWhere)
        try c.encode(subscriptionDataSet, forKey: .subscriptionDataSet)
        try c.encode(unitMode, forKey: .unitMode)
    }
}

/// One subscribed topic. `tagsSet` / `codeSet` are informational: C++ fills `codeSet` with `atoi(tag)`, so
/// the broker recomputes tag codes from `subString` and never trusts these.
public struct SubscriptionData: Codable, Sendable, Equatable {
    public var topic: String
    public var subString: String
    public var subVersion: Int64
    public var tagsSet: [String]
    public var codeSet: [Int64]
    /// `TAG` (absent) or `SQL92`.
    public var expressionType: String?

    public init(topic: String, subString: String = "*", subVersion: Int64 = 0, expressionType: String? = nil) {
        self.topic = topic
        self.subString = subString
        self.subVersion = subVersion
        self.tagsSet = SubscriptionData.tags(of: subString)
        self.codeSet = []
        self.expressionType = expressionType
    }

    /// Tags of a TAG expression: `*` or blank = none (all messages); else split on `||`, trimmed, blanks dropped.
    public static func tags(of subString: String) -> [String] {
        let trimmed = subString.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "*" { return [] }
        return trimmed.components(separatedBy: "||").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        topic = try c.decodeIfPresent(String.self, forKey: .topic) ?? ""
        subString = try c.decodeIfPresent(String.self, forKey: .subString) ?? "*"
        if let n = try? c.decodeIfPresent(Int64.self, forKey: .subVersion) {
            subVersion = n
        } else if let s = try? c.decodeIfPresent(String.self, forKey: .subVersion) {
            subVersion = Int64(s) ?? 0
        } else {
            subVersion = 0
        }
        tagsSet = (try? c.decodeIfPresent([String].self, forKey: .tagsSet)) ?? []
        codeSet = (try? c.decodeIfPresent([Int64].self, forKey: .codeSet)) ?? []
        expressionType = try? c.decodeIfPresent(String.self, forKey: .expressionType)
    }
}

/// An enum that arrives as an ordinal (C++) or as its Java name.
public protocol LenientEnum: RawRepresentable<Int>, CaseIterable {
    var javaName: String { get }
}

extension LenientEnum {
    static func decodeLeniently<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Self? {
        if let n = try? c.decodeIfPresent(Int.self, forKey: key) { return Self(rawValue: n) }
        if let s = try? c.decodeIfPresent(String.self, forKey: key) {
            return allCases.first { $0.javaName == s } ?? Int(s).flatMap(Self.init(rawValue:))
        }
        return nil
    }
}
