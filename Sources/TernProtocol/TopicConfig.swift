import Foundation

/// Permission bits of a topic or broker (`PermName`).
public enum Perm {
    public static let inherit = 1
    public static let write = 2
    public static let read = 4
    public static let priority = 8
    public static let readWrite = read | write

    public static func isReadable(_ perm: Int) -> Bool { perm & read != 0 }
    public static func isWritable(_ perm: Int) -> Bool { perm & write != 0 }
    public static func isInherited(_ perm: Int) -> Bool { perm & inherit != 0 }
}

/// A topic's configuration as brokers persist it and register it with name servers (`TopicConfig`).
public struct TopicConfig: Codable, Sendable, Equatable {
    public var topicName: String
    public var readQueueNums: Int
    public var writeQueueNums: Int
    public var perm: Int
    /// `SINGLE_TAG` or `MULTI_TAG`; informational.
    public var topicFilterType: String
    public var topicSysFlag: Int
    public var order: Bool

    public init(topicName: String, readQueueNums: Int = 16, writeQueueNums: Int = 16, perm: Int = Perm.readWrite,
                topicFilterType: String = "SINGLE_TAG", topicSysFlag: Int = 0, order: Bool = false) {
        self.topicName = topicName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicFilterType = topicFilterType
        self.topicSysFlag = topicSysFlag
        self.order = order
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        topicName = try c.decode(String.self, forKey: .topicName)
        readQueueNums = try c.decodeIfPresent(Int.self, forKey: .readQueueNums) ?? 16
        writeQueueNums = try c.decodeIfPresent(Int.self, forKey: .writeQueueNums) ?? 16
        perm = try c.decodeIfPresent(Int.self, forKey: .perm) ?? Perm.readWrite
        topicFilterType = try c.decodeIfPresent(String.self, forKey: .topicFilterType) ?? "SINGLE_TAG"
        topicSysFlag = try c.decodeIfPresent(Int.self, forKey: .topicSysFlag) ?? 0
        order = try c.decodeIfPresent(Bool.self, forKey: .order) ?? false
    }
}

/// Version stamp of a broker's topic table: equal when timestamp and counter are equal (`DataVersion`).
public struct DataVersion: Codable, Sendable, Equatable {
    public var timestamp: Int64
    public var counter: Int64

    public init(timestamp: Int64, counter: Int64 = 0) {
        self.timestamp = timestamp
        self.counter = counter
    }

    /// Next version after a change.
    public mutating func bump(now: Int64) {
        timestamp = now
        counter += 1
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timestamp = try c.decodeIfPresent(Int64.self, forKey: .timestamp) ?? 0
        // Java writes an AtomicLong as a plain number.
        counter = try c.decodeIfPresent(Int64.self, forKey: .counter) ?? 0
    }
}

/// `TopicConfigSerializeWrapper`: the body of `GET_ALL_TOPIC_CONFIG` and part of broker registration.
public struct TopicConfigSerializeWrapper: Codable, Sendable, Equatable {
    public var topicConfigTable: [String: TopicConfig]
    public var dataVersion: DataVersion

    public init(topicConfigTable: [String: TopicConfig], dataVersion: DataVersion) {
        self.topicConfigTable = topicConfigTable
        self.dataVersion = dataVersion
    }
}

/// `RegisterBrokerBody` (uncompressed form): what a broker sends with `REGISTER_BROKER`.
public struct RegisterBrokerBody: Codable, Sendable, Equatable {
    public var topicConfigSerializeWrapper: TopicConfigSerializeWrapper
    public var filterServerList: [String]

    public init(topicConfigSerializeWrapper: TopicConfigSerializeWrapper, filterServerList: [String] = []) {
        self.topicConfigSerializeWrapper = topicConfigSerializeWrapper
        self.filterServerList = filterServerList
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        topicConfigSerializeWrapper = try c.decode(TopicConfigSerializeWrapper.self, forKey: .topicConfigSerializeWrapper)
        filterServerList = try c.decodeIfPresent([String].self, forKey: .filterServerList) ?? []
    }
}
