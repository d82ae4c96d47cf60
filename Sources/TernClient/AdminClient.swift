import NIOCore
import TernMessage
import TernProtocol
import TernRemoting

/// Admin request codes not in ``RequestCode`` (used only by the admin client).
enum AdminRequestCode {
    static let getTopicStatsInfo = 202
    static let getConsumeStats = 208
    static let deleteTopicInBroker = 215
    static let deleteTopicInNamesrv = 216
}

/// Offsets of one queue, from GET_TOPIC_STATS_INFO.
public struct QueueStats: Sendable, Equatable, Codable {
    public var brokerName: String
    public var queueId: Int32
    public var minOffset: Int64
    public var maxOffset: Int64
    public var lastUpdateTimestamp: Int64
}

/// A group's progress on one queue, from GET_CONSUME_STATS.
public struct ConsumerQueueProgress: Sendable, Equatable, Codable {
    public var topic: String
    public var brokerName: String
    public var queueId: Int32
    public var brokerOffset: Int64
    public var consumerOffset: Int64
    public var lastTimestamp: Int64
    /// Messages not consumed yet.
    public var lag: Int64 { max(0, brokerOffset - consumerOffset) }
}

public struct ConsumerProgress: Sendable, Equatable {
    public var queues: [ConsumerQueueProgress]
    public var consumeTps: Double
    public var totalLag: Int64 { queues.reduce(0) { $0 + $1.lag } }
}

/// mqadmin's operations: cluster and topic listing, topic create/delete, stats, consumer progress, message queries.
public final class AdminClient: Sendable {
    public let runtime: ClientRuntime

    public init(runtime: ClientRuntime) {
        self.runtime = runtime
    }

    // MARK: - Name server

    /// GET_BROKER_CLUSTER_INFO (106).
    public func clusterInfo() async throws -> ClusterInfo {
        let r = try await runtime.invokeNameServer(runtime.makeRequest(code: RequestCode.getBrokerClusterInfo)).get()
        return try JSONBody.decode(ClusterInfo.self, from: r.expectSuccess(from: "name server").body)
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), sorted.
    public func topicList() async throws -> [String] {
        let r = try await runtime.invokeNameServer(runtime.makeRequest(code: RequestCode.getAllTopicListFromNameServer)).get()
        return try JSONBody.decode(TopicList.self, from: r.expectSuccess(from: "name server").body).topicList.sorted()
    }

    /// GET_ROUTEINFO_BY_TOPIC (105), bypassing the cache.
    public func route(topic: String) async throws -> TopicRouteInfo {
        try await runtime.fetchRoute(topic: topic).get()
    }

    /// Master addresses of `cluster`'s brokers (every cluster when nil), sorted by broker name.
    public func masterAddresses(cluster: String?) async throws -> [String] {
        let info = try await clusterInfo()
        let names: [String]
        if let cluster {
            guard let members = info.clusterAddrTable[cluster] else {
                throw ClientError.invalidArgument("cluster \(cluster) is not known to the name server")
            }
            names = members
        } else {
            names = Array(Set(info.clusterAddrTable.values.flatMap { $0 }).union(info.brokerAddrTable.keys))
        }
        return names.sorted().compactMap { info.brokerAddrTable[$0]?.masterAddress }
    }

    // MARK: - Topics

    /// UPDATE_AND_CREATE_TOPIC (17) on `brokerAddress`, or on every master of `cluster` (every cluster when both
    /// are nil). Returns the broker addresses that accepted it.
    @discardableResult
    public func createTopic(_ config: TopicConfig, cluster: String? = nil, brokerAddress: String? = nil) async throws -> [String] {
        let targets: [String]
        if let brokerAddress { targets = [brokerAddress] } else { targets = try await masterAddresses(cluster: cluster) }
        guard !targets.isEmpty else { throw ClientError.invalidArgument("no master broker to create the topic on") }
        var f = RemotingExtFields()
        f["topic"] = config.topicName
        f["defaultTopic"] = "TBW102"
        f.set("readQueueNums", config.readQueueNums)
        f.set("writeQueueNums", config.writeQueueNums)
        f.set("perm", config.perm)
        f["topicFilterType"] = config.topicFilterType
        f.set("topicSysFlag", config.topicSysFlag)
        f.set("order", config.order)
        for address in targets {
            _ = try await runtime.invoke(address, runtime.makeRequest(code: RequestCode.updateAndCreateTopic, extFields: f))
                .get().expectSuccess(from: address)
        }
        runtime.invalidateRoute(topic: config.topicName)
        return targets
    }

    /// ``createTopic(_:cluster:brokerAddress:)`` with the usual fields (perm 6 = read + write).
    @discardableResult
    public func createTopic(_ topic: String, readQueues: Int, writeQueues: Int, perm: Int = 6, order: Bool = false,
                            cluster: String? = nil, brokerAddress: String? = nil) async throws -> [String] {
        try await createTopic(TopicConfig(topicName: topic, readQueueNums: readQueues, writeQueueNums: writeQueues,
                                          perm: perm, order: order), cluster: cluster, brokerAddress: brokerAddress)
    }

    /// DELETE_TOPIC_IN_BROKER (215) on every master of `cluster` (every cluster when nil), then
    /// DELETE_TOPIC_IN_NAMESRV (216) on every name server. Returns the broker addresses.
    @discardableResult
    public func deleteTopic(_ topic: String, cluster: String? = nil) async throws -> [String] {
        let targets = try await masterAddresses(cluster: cluster)
        var f = RemotingExtFields()
        f["topic"] = topic
        for address in targets {
            _ = try await runtime.invoke(address, runtime.makeRequest(code: AdminRequestCode.deleteTopicInBroker, extFields: f))
                .get().expectSuccess(from: address)
        }
        for (address, result) in try await runtime.invokeAllNameServers(
            runtime.makeRequest(code: AdminRequestCode.deleteTopicInNamesrv, extFields: f)).get() {
            _ = try result.get().expectSuccess(from: address)
        }
        runtime.invalidateRoute(topic: topic)
        return targets
    }

    /// GET_TOPIC_STATS_INFO (202) from every master in the topic's route, sorted by broker and queue.
    public func topicStats(topic: String) async throws -> [QueueStats] {
        let route = try await route(topic: topic)
        var out: [QueueStats] = []
        for bd in route.data.brokerDatas {
            guard let address = bd.masterAddress else { continue }
            var f = RemotingExtFields()
            f["topic"] = topic
            let r = try await runtime.invoke(address, runtime.makeRequest(code: AdminRequestCode.getTopicStatsInfo, extFields: f))
                .get().expectSuccess(from: address)
            out += try TopicStatsBody.decode(from: r.body).offsetTable.map {
                QueueStats(brokerName: $0.queue.brokerName, queueId: Int32($0.queue.queueId), minOffset: $0.minOffset,
                           maxOffset: $0.maxOffset, lastUpdateTimestamp: $0.lastUpdateTimestamp)
            }
        }
        return out.sorted { ($0.brokerName, $0.queueId) < ($1.brokerName, $1.queueId) }
    }

    /// GET_CONSUME_STATS (208) for `group` (optionally one topic) from the topic's masters, or every master.
    public func consumerProgress(group: String, topic: String? = nil) async throws -> ConsumerProgress {
        let targets: [String]
        if let topic { targets = try await route(topic: topic).masterAddresses }
        else { targets = try await masterAddresses(cluster: nil) }
        var queues: [ConsumerQueueProgress] = []
        var tps = 0.0
        for address in targets {
            var f = RemotingExtFields()
            f["consumerGroup"] = group
            if let topic { f["topic"] = topic }
            let r = try await runtime.invoke(address, runtime.makeRequest(code: AdminRequestCode.getConsumeStats, extFields: f)).get()
            // A broker that never saw the group may answer an error or an empty table: nothing to add.
            guard r.code == ResponseCode.success, r.body != nil else { continue }
            let body = try ConsumeStatsBody.decode(from: r.body)
            tps += body.consumeTps
            queues += body.offsetTable.map {
                ConsumerQueueProgress(topic: $0.queue.topic, brokerName: $0.queue.brokerName, queueId: Int32($0.queue.queueId),
                                      brokerOffset: $0.brokerOffset, consumerOffset: $0.consumerOffset,
                                      lastTimestamp: $0.lastTimestamp)
            }
        }
        queues.sort { ($0.topic, $0.brokerName, $0.queueId) < ($1.topic, $1.brokerName, $1.queueId) }
        return ConsumerProgress(queues: queues, consumeTps: tps)
    }

    // MARK: - Messages

    /// QUERY_MESSAGE (12) by key on every master of the topic; records of all brokers, by store time.
    public func queryMessages(topic: String, key: String, maxNum: Int = 64,
                              beginTimestamp: Int64 = 0, endTimestamp: Int64 = Int64.max) async throws -> [ReceivedMessage] {
        try await query(topic: topic, key: key, maxNum: maxNum, unique: false, begin: beginTimestamp, end: endTimestamp)
    }

    /// QUERY_MESSAGE (12) with `_UNIQUE_KEY_QUERY`: the messages whose UNIQ_KEY is `uniqueKey`.
    public func queryMessages(topic: String, uniqueKey: String) async throws -> [ReceivedMessage] {
        try await query(topic: topic, key: uniqueKey, maxNum: 32, unique: true, begin: 0, end: Int64.max)
    }

    private func query(topic: String, key: String, maxNum: Int, unique: Bool, begin: Int64, end: Int64) async throws -> [ReceivedMessage] {
        let route = try await route(topic: topic)
        var f = RemotingExtFields()
        f["topic"] = topic
        f["key"] = key
        f.set("maxNum", maxNum)
        f.set("beginTimestamp", begin)
        f.set("endTimestamp", end)
        if unique { f["_UNIQUE_KEY_QUERY"] = "true" }
        var out: [ReceivedMessage] = []
        for address in route.masterAddresses {
            let r = try await runtime.invoke(address, runtime.makeRequest(code: RequestCode.queryMessage, extFields: f),
                                             timeout: .seconds(10)).get()
            if r.code == ResponseCode.queryNotFound { continue }
            out += try RecordDecoder.messages(in: r.expectSuccess(from: address).body)
        }
        return out.sorted { ($0.storeTimestamp, $0.msgId) < ($1.storeTimestamp, $1.msgId) }
    }

    /// VIEW_MESSAGE_BY_ID (33): the message of a 32-hex offset id, asked of the broker named in the id.
    public func viewMessage(offsetId: String) async throws -> ReceivedMessage {
        guard let (host, offset) = MessageId.decodeOffsetId(offsetId) else {
            throw ClientError.invalidArgument("\(offsetId) is not an offset message id (32 hex chars)")
        }
        let address = host.description
        var f = RemotingExtFields()
        f.set("offset", offset)
        let r = try await runtime.invoke(address, runtime.makeRequest(code: RequestCode.viewMessageById, extFields: f)).get()
        guard let message = try RecordDecoder.messages(in: r.expectSuccess(from: address).body).first else {
            throw ClientError.badResponse("view-by-id answer without a record")
        }
        return message
    }
}
