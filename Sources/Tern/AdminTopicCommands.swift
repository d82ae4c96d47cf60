import ArgumentParser
import Foundation
import TernClient
import TernProtocol

struct AdminUpdateTopic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "updateTopic", abstract: "Create or update a topic.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String
    @Option(name: .customShort("c"), help: "Create on every master of this cluster.") var cluster: String?
    @Option(name: .customShort("b"), help: "Create on this broker address only.") var brokerAddr: String?
    @Option(name: .customShort("r"), help: "Read queue count.") var readQueueNums = 8
    @Option(name: .customShort("w"), help: "Write queue count.") var writeQueueNums = 8
    @Option(name: .customShort("p"), help: "Permission (2 write, 4 read, 6 both).") var perm = 6
    @Option(name: .customShort("o"), help: "Ordered topic (true/false).") var order = false

    func validate() throws {
        if cluster != nil && brokerAddr != nil { throw ValidationError("give -c or -b, not both") }
        guard readQueueNums > 0, writeQueueNums > 0 else { throw ValidationError("-r and -w must be positive") }
        guard [2, 4, 6].contains(perm) else { throw ValidationError("-p must be 2, 4 or 6") }
    }

    func run() async throws {
        try await common.run { admin in
            let config = TopicConfig(topicName: topic, readQueueNums: readQueueNums, writeQueueNums: writeQueueNums,
                                     perm: perm, order: order)
            let brokers = try await admin.createTopic(config, cluster: cluster, brokerAddress: brokerAddr)
            if common.json {
                struct Out: Encodable { var topicConfig: TopicConfig; var brokers: [String] }
                common.printJSON(Out(topicConfig: config, brokers: brokers))
            } else {
                for b in brokers { print("create topic to \(b) success.") }
                print("TopicConfig [topicName=\(topic), readQueueNums=\(readQueueNums), writeQueueNums=\(writeQueueNums), perm=\(perm), order=\(order)]")
            }
        }
    }
}

struct AdminDeleteTopic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deleteTopic",
                                                    abstract: "Delete a topic from the brokers and the name servers.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String
    @Option(name: .customShort("c"), help: "Cluster (default: every cluster).") var cluster: String?

    func run() async throws {
        try await common.run { admin in
            let brokers = try await admin.deleteTopic(topic, cluster: cluster)
            if common.json {
                struct Out: Encodable { var topic: String; var brokers: [String] }
                common.printJSON(Out(topic: topic, brokers: brokers))
            } else {
                print("delete topic [\(topic)] from \(cluster.map { "cluster [\($0)]" } ?? "all clusters") success.")
                print("delete topic [\(topic)] from NameServer success.")
            }
        }
    }
}

struct AdminTopicList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topicList", abstract: "List every topic the name servers know.")

    @OptionGroup var common: AdminOptions

    func run() async throws {
        try await common.run { admin in
            let topics = try await admin.topicList()
            if common.json { common.printJSON(topics) } else { topics.forEach { print($0) } }
        }
    }
}

struct AdminTopicRoute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topicRoute", abstract: "Show a topic's route.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String

    func run() async throws {
        try await common.run { admin in
            let route = try await admin.route(topic: topic)
            if common.json { return common.printJSON(route.data) }
            var brokers = AdminTable("#Cluster", "#Broker Name", "#BID", "#Addr")
            for bd in route.data.brokerDatas.sorted(by: { $0.brokerName < $1.brokerName }) { brokers.addBroker(bd) }
            brokers.print()
            print("")
            var queues = AdminTable("#Broker Name", "#Read Queues", "#Write Queues", "#Perm")
            for qd in route.data.queueDatas.sorted(by: { $0.brokerName < $1.brokerName }) {
                queues.add(qd.brokerName, String(qd.readQueueNums), String(qd.writeQueueNums), String(qd.perm))
            }
            queues.print()
        }
    }
}

struct AdminTopicStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topicStatus", abstract: "Min/max offsets of every queue of a topic.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String

    func run() async throws {
        try await common.run { admin in
            let stats = try await admin.topicStats(topic: topic)
            let puts = try await admin.topicPutStats(topic: topic)
            if common.json {
                struct Out: Encodable { var queues: [QueueStats]; var puts: [TopicPutStats] }
                return common.printJSON(Out(queues: stats, puts: puts))
            }
            var table = AdminTable("#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated")
            for s in stats {
                table.add(s.brokerName, String(s.queueId), String(s.minOffset), String(s.maxOffset), formatMillis(s.lastUpdateTimestamp))
            }
            table.print()
            for p in puts { print("\nPut \(p.brokerAddress): total \(p.total), last minute \(p.lastPeriod), TPS \(String(format: "%.2f", p.tps))") }
        }
    }
}

struct AdminClusterList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clusterList", abstract: "List clusters and their brokers.")

    @OptionGroup var common: AdminOptions

    func run() async throws {
        try await common.run { admin in
            let info = try await admin.clusterInfo()
            if common.json { return common.printJSON(info) }
            var table = AdminTable("#Cluster Name", "#Broker Name", "#BID", "#Addr")
            for (cluster, names) in info.clusterAddrTable.sorted(by: { $0.key < $1.key }) {
                for name in names.sorted() {
                    guard let bd = info.brokerAddrTable[name] else { table.add(cluster, name, "-", "-"); continue }
                    table.addBroker(bd, cluster: cluster)
                }
            }
            table.print()
        }
    }
}

extension AdminTable {
    /// One row per address of `broker` (cluster, name, broker id, address), ids in numeric order.
    mutating func addBroker(_ broker: BrokerData, cluster: String? = nil) {
        for (id, addr) in broker.brokerAddrs.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            add(cluster ?? broker.cluster, broker.brokerName, id, addr)
        }
    }
}
