import Foundation

/// One broker's queues of a topic, in a route (`QueueData`).
public struct QueueData: Codable, Sendable, Equatable {
    public var brokerName: String
    public var readQueueNums: Int
    public var writeQueueNums: Int
    public var perm: Int
    public var topicSysFlag: Int

    public init(brokerName: String, readQueueNums: Int, writeQueueNums: Int, perm: Int, topicSysFlag: Int = 0) {
        self.brokerName = brokerName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicSysFlag = topicSysFlag
    }
}

/// A broker group: its cluster, name, and addresses by broker id ("0" = master). Keys are quoted decimal
/// strings, which C++ (atoi), Java ≥ 4.9.4 and Go all accept (`BrokerData`).
public struct BrokerData: Codable, Sendable, Equatable {
    public var cluster: String
    public var brokerName: String
    public var brokerAddrs: [String: String]

    public init(cluster: String, brokerName: String, brokerAddrs: [String: String]) {
        self.cluster = cluster
        self.brokerName = brokerName
        self.brokerAddrs = brokerAddrs
    }

    /// The master's address (broker id 0), if registered.
    public var masterAddress: String? { brokerAddrs["0"] }
}

/// The route of one topic (`TopicRouteData`), body of `GET_ROUTEINFO_BY_TOPIC`.
public struct TopicRouteData: Codable, Sendable, Equatable {
    public var orderTopicConf: String?
    public var queueDatas: [QueueData]
    public var brokerDatas: [BrokerData]
    public var filterServerTable: [String: [String]]

    public init(orderTopicConf: String? = nil, queueDatas: [QueueData], brokerDatas: [BrokerData],
                filterServerTable: [String: [String]] = [:]) {
        self.orderTopicConf = orderTopicConf
        self.queueDatas = queueDatas
        self.brokerDatas = brokerDatas
        self.filterServerTable = filterServerTable
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        orderTopicConf = try c.decodeIfPresent(String.self, forKey: .orderTopicConf)
        queueDatas = try c.decodeIfPresent([QueueData].self, forKey: .queueDatas) ?? []
        brokerDatas = try c.decodeIfPresent([BrokerData].self, forKey: .brokerDatas) ?? []
        filterServerTable = try c.decodeIfPresent([String: [String]].self, forKey: .filterServerTable) ?? [:]
    }
}

/// `ClusterInfo`, body of `GET_BROKER_CLUSTER_INFO`.
public struct ClusterInfo: Codable, Sendable, Equatable {
    public var brokerAddrTable: [String: BrokerData]
    public var clusterAddrTable: [String: [String]]

    public init(brokerAddrTable: [String: BrokerData], clusterAddrTable: [String: [String]]) {
        self.brokerAddrTable = brokerAddrTable
        self.clusterAddrTable = clusterAddrTable
    }
}

/// `TopicList`, body of `GET_ALL_TOPIC_LIST_FROM_NAMESERVER`.
public struct TopicList: Codable, Sendable, Equatable {
    public var topicList: [String]
    public var brokerAddr: String?

    public init(topicList: [String], brokerAddr: String? = nil) {
        self.topicList = topicList
        self.brokerAddr = brokerAddr
    }
}
