import ArgumentParser
import Foundation
import NIOCore
import TernClient
import TernSecurity

/// `tern admin …`: mqadmin's everyday commands with its option letters, against a name server.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Administer topics, consumer groups and messages (mqadmin-compatible option letters).",
        subcommands: [
            AdminUpdateTopic.self, AdminDeleteTopic.self, AdminTopicList.self, AdminTopicRoute.self,
            AdminTopicStatus.self, AdminConsumerProgress.self, AdminQueryMsgByKey.self, AdminQueryMsgById.self,
            AdminClusterList.self, AdminTrace.self, AdminSetRateLimit.self, AdminFlowLimits.self,
            AdminDeadLetters.self, AdminResendDeadLetters.self, AdminBrokerStatus.self, AdminGetBrokerConfig.self,
            AdminUpdateSubGroup.self, AdminDeleteSubGroup.self, AdminGetConsumerConfig.self, AdminResetOffsetByTime.self,
            AdminUpdateBrokerConfig.self, AdminStatsAll.self, AdminBrokerConsumeStats.self,
            AdminConsumerConnection.self, AdminProducerConnection.self, AdminCloneGroupOffset.self, AdminConsumerStatus.self,
            AdminHAStatus.self, AdminElectMaster.self, AdminQueryMsgByOffset.self, AdminPrintMsg.self,
        ])
}

/// Options every admin command takes.
struct AdminOptions: ParsableArguments {
    @Option(name: [.customShort("n"), .customLong("namesrvAddr")],
            help: "Name server address(es), host:port separated by ';'.")
    var namesrv = "127.0.0.1:9876"
    @Flag(help: "Print JSON instead of a table.")
    var json = false
    @OptionGroup var tls: ClientTLSOptions
    @Option(name: .customLong("access-key"), help: "ACL access key: sign every request (brokers with aclEnable=true).")
    var accessKey: String?
    @Option(name: .customLong("secret-key"), help: "ACL secret key of --access-key.")
    var secretKey: String?

    /// Runs `body` with an admin client; failures print `error: …` on stderr and exit with status 1.
    func run(_ body: (AdminClient) async throws -> Void) async throws {
        var options = ClientOptions(nameServer: namesrv)
        options.requestTimeout = .seconds(5)
        try tls.apply(to: &options)
        switch (accessKey, secretKey) {
        case (let access?, let secret?): options.credentials = AclCredentials(accessKey: access, secretKey: secret)
        case (nil, nil): break
        default: throw ValidationError("--access-key and --secret-key go together")
        }
        guard !options.nameServers.isEmpty else { throw ValidationError("-n needs at least one host:port") }
        let runtime = ClientRuntime(options: options)
        defer { runtime.shutdown() }
        do {
            try await body(AdminClient(runtime: runtime))
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Prints `value` as sorted, pretty JSON.
    func printJSON(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Error text for a failure the server did not report as an error (an empty answer, say).
struct AdminFailure: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}

/// Left-aligned columns separated by two spaces, with a header row.
struct AdminTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }
    mutating func add(_ row: String...) { rows.append(row) }

    func print() {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        for row in all {
            let cells = row.indices.map { c in c == row.count - 1 ? row[c] : row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0) }
            Swift.print(cells.joined(separator: "  "))
        }
    }
}

/// "yyyy-MM-dd HH:mm:ss,SSS" in local time, as mqadmin prints times; "-" for 0.
func formatMillis(_ ms: Int64) -> String {
    guard ms > 0 else { return "-" }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}
