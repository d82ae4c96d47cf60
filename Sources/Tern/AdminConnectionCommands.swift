import ArgumentParser
import Foundation
import TernClient
import TernProtocol

/// mqadmin `consumerConnection`: a consumer group's online clients and subscriptions.
struct AdminConsumerConnection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consumerConnection", abstract: "A consumer group's online clients.")
    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Consumer group.") var group: String

    func run() async throws {
        try await common.run { admin in
            let body = try await admin.consumerConnection(group: group)
            if common.json { return common.printJSON(body) }
            var clients = AdminTable("#ClientId", "#ClientAddr", "#Language", "#Version")
            for c in body.connectionSet { clients.add(c.clientId, c.clientAddr, c.language, String(c.version)) }
            clients.print()
            print("")
            var subs = AdminTable("#Topic", "#SubExpression")
            for (topic, s) in body.subscriptionTable.sorted(by: { $0.key < $1.key }) { subs.add(topic, s.subString) }
            subs.print()
            print("\nConsumeType: \(body.consumeType)\nMessageModel: \(body.messageModel)\nConsumeFromWhere: \(body.consumeFromWhere)")
        }
    }
}

/// mqadmin `producerConnection`: a producer group's online clients on the brokers of a topic.
struct AdminProducerConnection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "producerConnection", abstract: "A producer group's online clients.")
    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Producer group.") var group: String
    @Option(name: .customShort("t"), help: "Topic the group sends to.") var topic: String

    func run() async throws {
        try await common.run { admin in
            let set = try await admin.producerConnection(group: group, topic: topic)
            if common.json { return common.printJSON(set) }
            var table = AdminTable("#ClientId", "#ClientAddr", "#Language", "#Version")
            for c in set { table.add(c.clientId, c.clientAddr, c.language, String(c.version)) }
            table.print()
        }
    }
}

/// mqadmin `cloneGroupOffset`: a group takes another group's committed offsets on a topic.
struct AdminCloneGroupOffset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cloneGroupOffset", abstract: "Copy a group's offsets to another group.")
    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("s"), help: "Source group.") var srcGroup: String
    @Option(name: .customShort("d"), help: "Destination group.") var destGroup: String
    @Option(name: .customShort("t"), help: "Topic.") var topic: String
    @Option(name: .customShort("o"), help: "Offline: also topics the online source group no longer subscribes to.") var offline = false

    func run() async throws {
        try await common.run { admin in
            let brokers = try await admin.cloneGroupOffset(srcGroup: srcGroup, destGroup: destGroup, topic: topic, offline: offline)
            print("clone group offset success. srcGroup[\(srcGroup)], destGroup=[\(destGroup)], topic[\(topic)] on \(brokers.joined(separator: ", "))")
        }
    }
}

/// mqadmin `consumerStatus`: each online client's own running info (307, relayed by the broker).
struct AdminConsumerStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consumerStatus", abstract: "Online consumers' running info.")
    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Consumer group.") var group: String
    @Option(name: .customShort("i"), help: "Only this client id.") var clientId: String?

    func run() async throws {
        try await common.run { admin in
            let ids: [String]
            if let clientId { ids = [clientId] } else { ids = try await admin.consumerConnection(group: group).connectionSet.map(\.clientId) }
            var out: [String: String] = [:]
            for id in ids { out[id] = try await admin.consumerRunningInfo(group: group, clientId: id) }
            if common.json { return common.printJSON(out) }
            for (id, info) in out.sorted(by: { $0.key < $1.key }) { print("#\(id)\n\(info)\n") }
        }
    }
}
