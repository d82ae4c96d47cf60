import ArgumentParser
import Foundation
import TernClient
import TernProtocol

extension FlowLimitKind: ExpressibleByArgument {}

/// `tern admin setRateLimit`: change a rate limit or dedup window on the brokers at runtime (Tern's code 9110).
struct AdminSetRateLimit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setRateLimit",
        abstract: "Set a send / send-back / pull rate limit (msgs/s, 0 lifts it) or a dedup window (s) at runtime.",
        discussion: """
        Kinds: topicRate -t TOPIC, sendBackRate -g GROUP, pullRate -g GROUP, dedupWindow -t TOPIC (seconds),
        defaultTopicRate, defaultSendBackRate, defaultPullRate. Kept in <store>/config/flow.json across restarts.
        """)

    @OptionGroup var common: AdminOptions
    @Option(name: .long, help: "What to change: \(FlowLimitKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: FlowLimitKind
    @Option(name: .customShort("t"), help: "Topic (topicRate, dedupWindow).") var topic: String?
    @Option(name: .customShort("g"), help: "Consumer group (sendBackRate, pullRate).") var group: String?
    @Option(name: .long, help: "Messages per second, or seconds for dedupWindow.") var value: Double
    @Option(name: .customShort("b"), help: "Only this broker (host:port).") var broker: String?
    @Option(name: .customShort("c"), help: "Only this cluster's masters.") var cluster: String?

    func validate() throws {
        guard value >= 0, value.isFinite else { throw ValidationError("--value must be >= 0") }
        if kind.isNamed, (topic ?? group) == nil { throw ValidationError("\(kind.rawValue) needs -t TOPIC or -g GROUP") }
    }

    func run() async throws {
        try await common.run { admin in
            let brokers = try await admin.setFlowLimit(kind, name: kind.isNamed ? (topic ?? group) : nil, value: value,
                                                       cluster: cluster, brokerAddress: broker)
            for b in brokers { print("\(kind.rawValue) \(topic ?? group ?? "(default)") = \(value) on \(b)") }
        }
    }
}

/// `tern admin flowLimits`: the limits and flow counters of each broker.
struct AdminFlowLimits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "flowLimits",
                                                    abstract: "Show rate limits, dedup windows and flow-control counters.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("b"), help: "Only this broker (host:port).") var broker: String?
    @Option(name: .customShort("c"), help: "Only this cluster's masters.") var cluster: String?

    func run() async throws {
        try await common.run { admin in
            let all = try await admin.flowLimits(cluster: cluster, brokerAddress: broker)
            if common.json { return common.printJSON(all) }
            for (address, l) in all.sorted(by: { $0.key < $1.key }) {
                print("broker \(address): fastFailures=\(l.fastFailures) rateLimited=\(l.rateLimited) duplicatesAnswered=\(l.duplicatesAnswered)")
                var table = AdminTable("#Kind", "#Name", "#Value")
                table.add("defaultTopicRate", "-", String(l.defaultTopicRateLimit))
                table.add("defaultSendBackRate", "-", String(l.sendBackRateLimit))
                table.add("defaultPullRate", "-", String(l.defaultGroupPullRateLimit))
                for (n, v) in l.topicRateLimits.sorted(by: { $0.key < $1.key }) { table.add("topicRate", n, String(v)) }
                for (n, v) in l.groupSendBackRateLimits.sorted(by: { $0.key < $1.key }) { table.add("sendBackRate", n, String(v)) }
                for (n, v) in l.groupPullRateLimits.sorted(by: { $0.key < $1.key }) { table.add("pullRate", n, String(v)) }
                for (n, v) in l.dedupWindowSeconds.sorted(by: { $0.key < $1.key }) { table.add("dedupWindow", n, String(v)) }
                table.print()
            }
        }
    }
}
