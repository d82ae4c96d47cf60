import Foundation
import Logging
import NIOConcurrencyHelpers
import TernProtocol

/// One REGISTER_BROKER request, decoded.
public struct BrokerRegistration: Sendable, Equatable {
    public var clusterName: String
    public var brokerName: String
    /// `ip:port` clients use.
    public var brokerAddr: String
    /// 0 = master, 1...n = slaves.
    public var brokerId: Int64
    public var haServerAddr: String
    /// Nil when the request had no body (the broker's topics are then left as they are).
    public var topicConfig: TopicConfigSerializeWrapper?
    public var filterServerList: [String]
    /// The connection it arrived on (`RemotingConnection.id`); its close drops the broker.
    public var connectionId: Int?

    public init(clusterName: String, brokerName: String, brokerAddr: String, brokerId: Int64, haServerAddr: String = "",
                topicConfig: TopicConfigSerializeWrapper?, filterServerList: [String] = [], connectionId: Int? = nil) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.brokerAddr = brokerAddr
        self.brokerId = brokerId
        self.haServerAddr = haServerAddr
        self.topicConfig = topicConfig
        self.filterServerList = filterServerList
        self.connectionId = connectionId
    }
}

/// What REGISTER_BROKER answers: for a slave, its master's HA and client addresses (nil for a master, or a
/// slave whose master is not registered).
public struct RegisterBrokerResult: Sendable, Equatable {
    public var haServerAddr: String?
    public var masterAddr: String?

    public init(haServerAddr: String? = nil, masterAddr: String? = nil) {
        self.haServerAddr = haServerAddr
        self.masterAddr = masterAddr
    }
}

/// The name server's registry (RocketMQ `RouteInfoManager`): live brokers, their groups and clusters, and
/// which broker groups serve which topics. Pure state behind one lock; no sockets, clock injected.
///
/// Invariants:
/// - Every broker name in `clusterAddrTable` or `topicQueueTable` has an entry in `brokerAddrTable` with at
///   least one address, and every address in `brokerAddrTable` has a `liveTable` entry. Removing a broker
///   address removes the broker name (and its queue data and cluster membership) once its last address goes.
/// - A broker group's queue data changes only through its master (brokerId 0), and only when the master's
///   DataVersion differs from the one recorded for its address (or on its first registration).
public final class RouteInfoManager: Sendable {
    private struct LiveBroker {
        var lastUpdate: Int64
        var dataVersion: DataVersion?
        var haServerAddr: String
        var connectionId: Int?
        /// Needed to remove the address from its group and cluster when it expires.
        var clusterName: String
        var brokerName: String
        var brokerId: Int64
    }

    private struct State {
        /// topic → broker name → queues.
        var topicQueueTable: [String: [String: QueueData]] = [:]
        var brokerAddrTable: [String: BrokerData] = [:]
        var clusterAddrTable: [String: Set<String>] = [:]
        /// Keyed by broker address.
        var liveTable: [String: LiveBroker] = [:]
        var filterServerTable: [String: [String]] = [:]
    }

    public static let masterId: Int64 = 0

    private let state = NIOLockedValueBox(State())
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    public let brokerExpiryMillis: Int64

    public init(brokerExpiryMillis: Int64 = 120_000, clock: @escaping @Sendable () -> Int64 = RouteInfoManager.wallMillis,
                logger: Logger = Logger(label: "tern.namesrv")) {
        self.brokerExpiryMillis = brokerExpiryMillis
        self.clock = clock
        self.logger = logger
    }

    @Sendable public static func wallMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Live brokers, topics and clusters registered now (metrics).
    public var sizes: (brokers: Int, topics: Int, clusters: Int) {
        state.withLockedValue { ($0.liveTable.count, $0.topicQueueTable.count, $0.clusterAddrTable.count) }
    }

    // MARK: - Registration

    public func registerBroker(_ r: BrokerRegistration) -> RegisterBrokerResult {
        let now = clock()
        let (result, first) = state.withLockedValue { s -> (RegisterBrokerResult, Bool) in
            s.clusterAddrTable[r.clusterName, default: []].insert(r.brokerName)
            var group = s.brokerAddrTable[r.brokerName]
                ?? BrokerData(cluster: r.clusterName, brokerName: r.brokerName, brokerAddrs: [:])
            // A slave promoted to master (or the reverse) keeps its address under a new id: drop the old id.
            let key = String(r.brokerId)
            for (id, addr) in group.brokerAddrs where addr == r.brokerAddr && id != key {
                group.brokerAddrs.removeValue(forKey: id)
            }
            let previousAddr = group.brokerAddrs.updateValue(r.brokerAddr, forKey: key)
            if let previousAddr, previousAddr != r.brokerAddr {
                // Another process took this id (broker moved): the old address is gone from the group.
                s.liveTable.removeValue(forKey: previousAddr)
                s.filterServerTable.removeValue(forKey: previousAddr)
            }
            s.brokerAddrTable[r.brokerName] = group
            let first = previousAddr != r.brokerAddr

            let previousVersion = s.liveTable[r.brokerAddr]?.dataVersion
            if let wrapper = r.topicConfig, r.brokerId == Self.masterId,
               first || previousVersion != wrapper.dataVersion {
                Self.replaceQueueData(&s, brokerName: r.brokerName, topics: wrapper.topicConfigTable)
            }
            s.liveTable[r.brokerAddr] = LiveBroker(
                lastUpdate: now, dataVersion: r.topicConfig?.dataVersion ?? previousVersion,
                haServerAddr: r.haServerAddr, connectionId: r.connectionId,
                clusterName: r.clusterName, brokerName: r.brokerName, brokerId: r.brokerId)
            if r.filterServerList.isEmpty {
                s.filterServerTable.removeValue(forKey: r.brokerAddr)
            } else {
                s.filterServerTable[r.brokerAddr] = r.filterServerList
            }

            var result = RegisterBrokerResult()
            if r.brokerId != Self.masterId, let masterAddr = group.brokerAddrs[String(Self.masterId)],
               let master = s.liveTable[masterAddr] {
                result.haServerAddr = master.haServerAddr
                result.masterAddr = masterAddr
            }
            return (result, first)
        }
        if first {
            logger.info("broker registered", metadata: [
                "cluster": "\(r.clusterName)", "broker": "\(r.brokerName)", "id": "\(r.brokerId)", "addr": "\(r.brokerAddr)",
            ])
        }
        return result
    }

    /// The master's topic table is the group's: topics it no longer lists lose this group's queues (RocketMQ
    /// 5's behaviour; 4.x only ever added, leaving routes to deleted topics until the group expired).
    private static func replaceQueueData(_ s: inout State, brokerName: String, topics: [String: TopicConfig]) {
        for (topic, var queues) in s.topicQueueTable where topics[topic] == nil && queues[brokerName] != nil {
            queues.removeValue(forKey: brokerName)
            s.topicQueueTable[topic] = queues.isEmpty ? nil : queues
        }
        for (name, config) in topics {
            s.topicQueueTable[name, default: [:]][brokerName] = QueueData(
                brokerName: brokerName, readQueueNums: config.readQueueNums, writeQueueNums: config.writeQueueNums,
                perm: config.perm, topicSysFlag: config.topicSysFlag)
        }
    }

    /// UNREGISTER_BROKER: removes one address from its group. `clusterName`, `brokerName` and `brokerId` come
    /// from the request; the address is removed from the group only if it is still registered under that id.
    public func unregisterBroker(clusterName: String, brokerAddr: String, brokerName: String, brokerId: Int64) {
        state.withLockedValue { s in
            s.liveTable.removeValue(forKey: brokerAddr)
            s.filterServerTable.removeValue(forKey: brokerAddr)
            Self.removeFromGroup(&s, brokerName: brokerName, clusterName: clusterName, brokerId: brokerId, brokerAddr: brokerAddr)
        }
        logger.info("broker unregistered", metadata: ["broker": "\(brokerName)", "id": "\(brokerId)", "addr": "\(brokerAddr)"])
    }

    /// Drops every broker registered over connection `id` (it closed). Returns the removed addresses.
    @discardableResult
    public func connectionClosed(id: Int) -> [String] {
        removeLive(reason: "connection closed") { $0.connectionId == id }
    }

    /// Drops brokers not refreshed for `brokerExpiryMillis`. Returns the removed addresses.
    @discardableResult
    public func scanNotActiveBrokers() -> [String] {
        let now = clock()
        let expiry = brokerExpiryMillis
        return removeLive(reason: "expired") { $0.lastUpdate + expiry < now }
    }

    private func removeLive(reason: String, where predicate: (LiveBroker) -> Bool) -> [String] {
        let removed = state.withLockedValue { s -> [String] in
            let gone = s.liveTable.filter { predicate($0.value) }
            for (addr, live) in gone {
                s.liveTable.removeValue(forKey: addr)
                s.filterServerTable.removeValue(forKey: addr)
                Self.removeFromGroup(&s, brokerName: live.brokerName, clusterName: live.clusterName,
                                     brokerId: live.brokerId, brokerAddr: addr)
            }
            return gone.keys.sorted()
        }
        for addr in removed { logger.warning("broker removed", metadata: ["addr": "\(addr)", "reason": "\(reason)"]) }
        return removed
    }

    /// Removes `brokerAddr` (under `brokerId`) from its group; the last address takes the group, its queues
    /// and its cluster membership with it.
    private static func removeFromGroup(_ s: inout State, brokerName: String, clusterName: String, brokerId: Int64,
                                        brokerAddr: String) {
        guard var group = s.brokerAddrTable[brokerName] else { return }
        let key = String(brokerId)
        if group.brokerAddrs[key] == brokerAddr { group.brokerAddrs.removeValue(forKey: key) }
        guard group.brokerAddrs.isEmpty else {
            s.brokerAddrTable[brokerName] = group
            return
        }
        s.brokerAddrTable.removeValue(forKey: brokerName)
        for cluster in [clusterName, group.cluster] {
            if var names = s.clusterAddrTable[cluster] {
                names.remove(brokerName)
                s.clusterAddrTable[cluster] = names.isEmpty ? nil : names
            }
        }
        for (topic, var queues) in s.topicQueueTable where queues[brokerName] != nil {
            queues.removeValue(forKey: brokerName)
            s.topicQueueTable[topic] = queues.isEmpty ? nil : queues
        }
    }

    // MARK: - Queries

    /// The route of `topic`, or nil when no live broker group serves it.
    public func topicRoute(_ topic: String) -> TopicRouteData? {
        state.withLockedValue { s -> TopicRouteData? in
            guard let queues = s.topicQueueTable[topic], !queues.isEmpty else { return nil }
            let names = queues.keys.sorted()
            let brokers = names.compactMap { s.brokerAddrTable[$0] }
            guard !brokers.isEmpty else { return nil }
            var filters: [String: [String]] = [:]
            for broker in brokers {
                for addr in broker.brokerAddrs.values {
                    if let list = s.filterServerTable[addr] { filters[addr] = list }
                }
            }
            return TopicRouteData(queueDatas: names.compactMap { queues[$0] }, brokerDatas: brokers,
                                  filterServerTable: filters)
        }
    }

    public func clusterInfo() -> ClusterInfo {
        state.withLockedValue { s in
            ClusterInfo(brokerAddrTable: s.brokerAddrTable,
                        clusterAddrTable: s.clusterAddrTable.mapValues { $0.sorted() })
        }
    }

    /// Every routable topic, sorted.
    public func allTopics() -> [String] {
        state.withLockedValue { $0.topicQueueTable.keys.sorted() }
    }

    /// Topics served by at least one broker group of `cluster`, sorted.
    public func topics(inCluster cluster: String) -> [String] {
        state.withLockedValue { s in
            guard let names = s.clusterAddrTable[cluster] else { return [] }
            return s.topicQueueTable.filter { !names.isDisjoint(with: $0.value.keys) }.keys.sorted()
        }
    }

    /// DELETE_TOPIC_IN_NAMESRV: forgets `topic` (only its queues on `cluster`'s groups when a cluster is
    /// named). Returns false when nothing was removed. The topic comes back when a master serving it registers
    /// a changed DataVersion.
    @discardableResult
    public func deleteTopic(_ topic: String, clusterName: String? = nil) -> Bool {
        state.withLockedValue { s -> Bool in
            guard var queues = s.topicQueueTable[topic] else { return false }
            guard let clusterName, !clusterName.isEmpty else {
                s.topicQueueTable.removeValue(forKey: topic)
                return true
            }
            let before = queues.count
            for name in s.clusterAddrTable[clusterName] ?? [] { queues.removeValue(forKey: name) }
            s.topicQueueTable[topic] = queues.isEmpty ? nil : queues
            return queues.count != before
        }
    }

    /// Addresses of live brokers (for logs and tests).
    public var liveBrokerAddresses: [String] {
        state.withLockedValue { $0.liveTable.keys.sorted() }
    }
}
