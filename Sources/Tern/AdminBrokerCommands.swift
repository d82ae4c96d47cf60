import ArgumentParser
import Foundation
import TernClient

/// Brokers named by `-b`, or every master of `-c` (every cluster when neither is given).
struct AdminBrokerTarget: ParsableArguments {
    @Option(name: .customShort("b"), help: "Broker address (host:port).") var brokerAddr: String?
    @Option(name: .customShort("c"), help: "Cluster: every master of it.") var cluster: String?

    func addresses(_ admin: AdminClient) async throws -> [String] {
        if let brokerAddr { return [brokerAddr] }
        return try await admin.masterAddresses(cluster: cluster)
    }
}

/// Prints per-broker key/value tables: `--json` as `{address: {key: value}}`, else mqadmin's `key : value` lines.
private func printTables(_ tables: [(String, [String: String])], _ common: AdminOptions) {
    if common.json { return common.printJSON(Dictionary(tables, uniquingKeysWith: { a, _ in a })) }
    for (address, table) in tables {
        if tables.count > 1 { print("============\(address)============") }
        for (k, v) in table.sorted(by: { $0.key < $1.key }) {
            print(k.padding(toLength: max(32, k.count), withPad: " ", startingAt: 0) + ": " + v)
        }
    }
}

struct AdminBrokerStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "brokerStatus", abstract: "A broker's runtime figures.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget

    func run() async throws {
        try await common.run { admin in
            var out: [(String, [String: String])] = []
            for a in try await target.addresses(admin) { out.append((a, try await admin.brokerRuntimeInfo(address: a))) }
            printTables(out, common)
        }
    }
}

struct AdminGetBrokerConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "getBrokerConfig", abstract: "A broker's settings.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget

    func run() async throws {
        try await common.run { admin in
            var out: [(String, [String: String])] = []
            for a in try await target.addresses(admin) { out.append((a, try await admin.brokerConfig(address: a))) }
            printTables(out, common)
        }
    }
}

struct AdminUpdateBrokerConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "updateBrokerConfig",
                                                    abstract: "Change a broker setting that can change at runtime.")
    @OptionGroup var common: AdminOptions
    @OptionGroup var target: AdminBrokerTarget
    @Option(name: .customShort("k"), help: """
        Key (defaultTopicRateLimit, sendBackRateLimit, defaultGroupPullRateLimit, flushIntervalCommitLog, \
        flushCommitLogLeastPages, flushCommitLogThoroughInterval).
        """)
    var key: String
    @Option(name: .customShort("v"), help: "Value.") var value: String

    func run() async throws {
        try await common.run { admin in
            for a in try await target.addresses(admin) {
                try await admin.updateBrokerConfig(address: a, key: key, value: value)
                print("update broker config success, \(a)")
            }
        }
    }
}
