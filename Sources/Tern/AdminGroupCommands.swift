import ArgumentParser
import Foundation
import TernClient
import TernProtocol

struct AdminUpdateSubGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "updateSubGroup",
                                                    abstract: "Create or update a subscription group's settings.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget
    @Option(name: .customShort("g"), help: "Group name.") var group: String
    @Option(name: .customShort("s"), help: "Consume enable.") var consumeEnable = true
    @Option(name: .customShort("m"), help: "Consume from min offset enable.") var consumeFromMinEnable = true
    @Option(name: .customShort("d"), help: "Broadcast consumption enable.") var consumeBroadcastEnable = true
    @Option(name: .customShort("q"), help: "Retry queue count.") var retryQueueNums = 1
    @Option(name: .customShort("r"), help: "Deliveries before the dead-letter topic.") var retryMaxTimes = 16
    @Option(name: .customShort("i"), help: "Broker id to consume from.") var brokerId: Int64 = 0
    @Option(name: .customShort("w"), help: "Broker id when consumption is slow.") var whichBrokerWhenConsumeSlowly: Int64 = 1
    @Option(name: .customShort("a"), help: "Notify consumer ids changed.") var notifyConsumerIdsChanged = true

    func run() async throws {
        var config = SubscriptionGroupConfig(groupName: group, retryMaxTimes: retryMaxTimes)
        config.consumeEnable = consumeEnable
        config.consumeFromMinEnable = consumeFromMinEnable
        config.consumeBroadcastEnable = consumeBroadcastEnable
        config.retryQueueNums = retryQueueNums
        config.brokerId = brokerId
        config.whichBrokerWhenConsumeSlowly = whichBrokerWhenConsumeSlowly
        config.notifyConsumerIdsChangedEnable = notifyConsumerIdsChanged
        try await common.run { admin in
            let brokers = try await admin.updateSubscriptionGroup(config, cluster: target.cluster, brokerAddress: target.brokerAddr)
            if common.json { return common.printJSON(config) }
            for b in brokers { print("create subscription group to \(b) success.") }
            print(config)
        }
    }
}

struct AdminDeleteSubGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deleteSubGroup", abstract: "Delete a subscription group.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget
    @Option(name: .customShort("g"), help: "Group name.") var group: String
    @Flag(name: [.customShort("r"), .customLong("remove-offset")], help: "Also delete the group's committed offsets (all topics).")
    var removeOffset = false

    func run() async throws {
        try await common.run { admin in
            for b in try await admin.deleteSubscriptionGroup(group, removeOffset: removeOffset, cluster: target.cluster,
                                                             brokerAddress: target.brokerAddr) {
                print("delete subscription group [\(group)] from broker [\(b)] success.")
            }
        }
    }
}

struct AdminGetConsumerConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "getConsumerConfig",
                                                    abstract: "A subscription group's settings on each master.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget
    @Option(name: .customShort("g"), help: "Group name.") var group: String

    func run() async throws {
        try await common.run { admin in
            var found: [String: SubscriptionGroupConfig] = [:]
            for a in try await target.addresses(admin) {
                found[a] = try await admin.subscriptionGroups(address: a).subscriptionGroupTable[group]
            }
            if common.json { return common.printJSON(found) }
            guard !found.isEmpty else { throw AdminFailure("no broker has the subscription group \(group)") }
            for (a, c) in found.sorted(by: { $0.key < $1.key }) { print("============\(a)============\n\(c)") }
        }
    }
}

struct AdminResetOffsetByTime: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resetOffsetByTime",
                                                    abstract: "Move a consumer group's offsets on a topic to a time.")
    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Consumer group.") var group: String
    @Option(name: .customShort("t"), help: "Topic.") var topic: String
    @Option(name: .customShort("s"), help: "Time: ms since 1970, 'now', or yyyy-MM-dd#HH:mm:ss:SSS (local); -1: the end.")
    var timestamp: String
    @Option(name: .customShort("f"), help: "Also move offsets forward (default true).") var force = true

    static func parse(_ text: String) -> Int64? {
        if text == "now" { return Int64(Date().timeIntervalSince1970 * 1000) }
        if let ms = Int64(text) { return ms }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd#HH:mm:ss:SSS"
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    func run() async throws {
        guard let ms = Self.parse(timestamp) else { throw ValidationError("-s: not a time: \(timestamp)") }
        try await common.run { admin in
            let table = try await admin.resetOffsetByTime(group: group, topic: topic, timestamp: ms, force: force)
            if common.json {
                struct Row: Encodable { var brokerName: String; var queueId: Int; var offset: Int64 }
                return common.printJSON(table.map { Row(brokerName: $0.0.brokerName, queueId: $0.0.queueId, offset: $0.1) })
            }
            var t = AdminTable("#brokerName", "#queueId", "#offset")
            for (q, o) in table { t.add(q.brokerName, String(q.queueId), String(o)) }
            t.print()
        }
    }
}
