import Foundation
import NIOConcurrencyHelpers
import NIOCore
import TernNameServer
import TernProtocol
import Testing

/// A settable clock for expiry tests.
final class TestClock: Sendable {
    private let now = NIOLockedValueBox<Int64>(1_700_000_000_000)
    var millis: Int64 { now.withLockedValue { $0 } }
    func advance(_ ms: Int64) { now.withLockedValue { $0 += ms } }
    var function: @Sendable () -> Int64 { { self.millis } }
}

/// A broker's registration with `topics` (name → queue count, perm 6 unless given) at `version`.
func registration(broker: String = "broker-a", addr: String = "127.0.0.1:10911", id: Int64 = 0,
                  cluster: String = "DefaultCluster", topics: [String: (Int, Int)] = ["T": (4, 6)],
                  version: Int64 = 1, connectionId: Int? = nil) -> BrokerRegistration {
    let table = Dictionary(uniqueKeysWithValues: topics.map { name, spec in
        (name, TopicConfig(topicName: name, readQueueNums: spec.0, writeQueueNums: spec.0, perm: spec.1))
    })
    return BrokerRegistration(
        clusterName: cluster, brokerName: broker, brokerAddr: addr, brokerId: id, haServerAddr: addr + "1",
        topicConfig: TopicConfigSerializeWrapper(topicConfigTable: table,
                                                 dataVersion: DataVersion(timestamp: 1_700_000_000_000, counter: version)),
        connectionId: connectionId)
}

@Suite struct RouteInfoManagerTests {
    @Test func routeAppearsAfterRegistrationAndExpires() {
        let clock = TestClock()
        let routes = RouteInfoManager(brokerExpiryMillis: 120_000, clock: clock.function)
        #expect(routes.topicRoute("T") == nil)
        _ = routes.registerBroker(registration())
        let route = try! #require(routes.topicRoute("T"))
        #expect(route.queueDatas == [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6)])
        #expect(route.brokerDatas == [BrokerData(cluster: "DefaultCluster", brokerName: "broker-a",
                                                 brokerAddrs: ["0": "127.0.0.1:10911"])])

        // Not yet expired at exactly the limit; a refresh restarts the window.
        clock.advance(120_000)
        #expect(routes.scanNotActiveBrokers().isEmpty)
        _ = routes.registerBroker(registration())
        clock.advance(100_000)
        #expect(routes.scanNotActiveBrokers().isEmpty)
        #expect(routes.topicRoute("T") != nil)

        clock.advance(20_001)
        #expect(routes.scanNotActiveBrokers() == ["127.0.0.1:10911"])
        #expect(routes.topicRoute("T") == nil)
        #expect(routes.clusterInfo().brokerAddrTable.isEmpty)
        #expect(routes.clusterInfo().clusterAddrTable.isEmpty)
        #expect(routes.allTopics().isEmpty)
    }

    @Test func unregistration() {
        let routes = RouteInfoManager(clock: TestClock().function)
        _ = routes.registerBroker(registration(broker: "broker-a", addr: "10.0.0.1:10911"))
        _ = routes.registerBroker(registration(broker: "broker-b", addr: "10.0.0.2:10911"))
        #expect(routes.topicRoute("T")?.queueDatas.map(\.brokerName) == ["broker-a", "broker-b"])
        routes.unregisterBroker(clusterName: "DefaultCluster", brokerAddr: "10.0.0.1:10911", brokerName: "broker-a", brokerId: 0)
        #expect(routes.topicRoute("T")?.queueDatas.map(\.brokerName) == ["broker-b"])
        #expect(routes.topicRoute("T")?.brokerDatas.map(\.brokerName) == ["broker-b"])
        #expect(routes.clusterInfo().clusterAddrTable == ["DefaultCluster": ["broker-b"]])
        #expect(routes.liveBrokerAddresses == ["10.0.0.2:10911"])
    }

    @Test func closedConnectionDropsItsBrokersOnly() {
        let routes = RouteInfoManager(clock: TestClock().function)
        _ = routes.registerBroker(registration(broker: "broker-a", addr: "10.0.0.1:10911", topics: ["A": (2, 6)], connectionId: 7))
        _ = routes.registerBroker(registration(broker: "broker-b", addr: "10.0.0.2:10911", topics: ["B": (2, 6)], connectionId: 8))
        #expect(routes.connectionClosed(id: 9).isEmpty)
        #expect(routes.connectionClosed(id: 7) == ["10.0.0.1:10911"])
        #expect(routes.topicRoute("A") == nil)
        #expect(routes.topicRoute("B") != nil)
        #expect(routes.allTopics() == ["B"])
    }

    @Test func slaveKeepsGroupAliveAndLearnsMaster() {
        let routes = RouteInfoManager(clock: TestClock().function)
        let master = routes.registerBroker(registration(addr: "10.0.0.1:10911"))
        #expect(master == RegisterBrokerResult())
        // A slave's topic table is ignored; it learns the master's addresses.
        let slave = routes.registerBroker(registration(addr: "10.0.0.2:10911", id: 1, topics: ["Other": (1, 6)], version: 9))
        #expect(slave.masterAddr == "10.0.0.1:10911")
        #expect(slave.haServerAddr == "10.0.0.1:109111")
        #expect(routes.topicRoute("Other") == nil)
        #expect(routes.topicRoute("T")?.brokerDatas.first?.brokerAddrs == ["0": "10.0.0.1:10911", "1": "10.0.0.2:10911"])
        // Master gone: the group and its queues stay while the slave lives.
        routes.unregisterBroker(clusterName: "DefaultCluster", brokerAddr: "10.0.0.1:10911", brokerName: "broker-a", brokerId: 0)
        #expect(routes.topicRoute("T")?.brokerDatas.first?.brokerAddrs == ["1": "10.0.0.2:10911"])
    }

    @Test func topicsTakenOnlyWhenDataVersionChanges() {
        let routes = RouteInfoManager(clock: TestClock().function)
        _ = routes.registerBroker(registration(topics: ["T": (4, 6)], version: 1))
        // Same version, different table: ignored (the version is the broker's promise nothing changed).
        _ = routes.registerBroker(registration(topics: ["T": (8, 6), "U": (1, 6)], version: 1))
        #expect(routes.topicRoute("T")?.queueDatas.first?.writeQueueNums == 4)
        #expect(routes.topicRoute("U") == nil)
        // New version: applied, and topics the broker no longer lists lose its queues.
        _ = routes.registerBroker(registration(topics: ["U": (1, 2)], version: 2))
        #expect(routes.topicRoute("T") == nil)
        #expect(routes.topicRoute("U")?.queueDatas.first?.perm == 2)
        // A registration without a body keeps the topics.
        var bare = registration(version: 3)
        bare.topicConfig = nil
        _ = routes.registerBroker(bare)
        #expect(routes.allTopics() == ["U"])
    }

    @Test func tbw102RoutesLikeAnyTopicWithItsPerm() {
        let routes = RouteInfoManager(clock: TestClock().function)
        #expect(routes.topicRoute("TBW102") == nil)
        _ = routes.registerBroker(registration(topics: ["TBW102": (8, 7), "RO": (2, 4)]))
        let tbw = try! #require(routes.topicRoute("TBW102"))
        #expect(tbw.queueDatas.first?.perm == 7)
        #expect(tbw.queueDatas.first?.readQueueNums == 8)
        #expect(routes.topicRoute("RO")?.queueDatas.first?.perm == 4)
    }

    @Test func clusterInfoAndTopicLists() {
        let routes = RouteInfoManager(clock: TestClock().function)
        _ = routes.registerBroker(registration(broker: "a", addr: "10.0.0.1:1", cluster: "C1", topics: ["T1": (1, 6), "S": (1, 6)]))
        _ = routes.registerBroker(registration(broker: "b", addr: "10.0.0.2:1", cluster: "C2", topics: ["T2": (1, 6), "S": (1, 6)]))
        let info = routes.clusterInfo()
        #expect(info.clusterAddrTable == ["C1": ["a"], "C2": ["b"]])
        #expect(info.brokerAddrTable["b"] == BrokerData(cluster: "C2", brokerName: "b", brokerAddrs: ["0": "10.0.0.2:1"]))
        #expect(routes.allTopics() == ["S", "T1", "T2"])
        #expect(routes.topics(inCluster: "C1") == ["S", "T1"])
        #expect(routes.topics(inCluster: "nope") == [])

        #expect(routes.deleteTopic("S", clusterName: "C1"))
        #expect(routes.topicRoute("S")?.queueDatas.map(\.brokerName) == ["b"])
        #expect(routes.deleteTopic("T1"))
        #expect(!routes.deleteTopic("T1"))
        #expect(routes.allTopics() == ["S", "T2"])
    }

    @Test func routeJSONHasQuotedIdsAndNumericCounts() throws {
        let routes = RouteInfoManager(clock: TestClock().function)
        _ = routes.registerBroker(registration(topics: ["T": (4, 6)]))
        let body = JSONBody.encode(try #require(routes.topicRoute("T")))
        let text = body.getString(at: 0, length: body.readableBytes) ?? ""
        #expect(text.contains(#""brokerAddrs":{"0":"127.0.0.1:10911"}"#))
        let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let queue = try #require((object["queueDatas"] as? [[String: Any]])?.first)
        #expect(queue["readQueueNums"] as? Int == 4)
        #expect(queue["writeQueueNums"] as? Int == 4)
        #expect(queue["perm"] as? Int == 6)
        #expect(!(queue["readQueueNums"] is String))
        #expect(object["filterServerTable"] as? [String: Any] != nil)
    }
}
