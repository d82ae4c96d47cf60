import ArgumentParser
import Foundation
import TernClient

/// `tern admin dlq -g G`: a group's dead letters (`%DLQ%G`) with their original topic.
struct AdminDeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlq",
                                                    abstract: "List a consumer group's dead letters (not re-sent yet, or --all).")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Consumer group.") var group: String
    @Flag(help: "Include dead letters already re-sent.") var all = false
    @Option(name: .customLong("max"), help: "At most this many per broker.") var maxNum = 100

    func run() async throws {
        try await common.run { admin in
            let brokers = try await admin.deadLetters(group: group, all: all, maxNum: maxNum)
            let messages = brokers.flatMap(\.messages)
            if common.json { return common.printJSON(messages.map(MessageJSON.init)) }
            var table = AdminTable("#Topic", "#Message ID", "#Unique Key", "#Keys", "#Reconsume Times", "#Original Topic", "#Store Time")
            for m in messages {
                table.add(m.topic, m.msgId, m.uniqueKey ?? "-", m.keys.joined(separator: " "), String(m.reconsumeTimes),
                          m.properties["RETRY_TOPIC"] ?? m.properties["REAL_TOPIC"] ?? "-", formatMillis(m.storeTimestamp))
            }
            table.print()
            for b in brokers {
                print("\(b.brokerAddress): \(b.maxOffset - b.minOffset) dead letters, \(max(0, b.maxOffset - max(b.resentOffset, b.minOffset))) not re-sent")
            }
        }
    }
}

/// `tern admin resendDlq -g G [-i msgId]`: dead letters back to their original topic (the console's re-push).
struct AdminResendDeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resendDlq",
        abstract: "Re-send a group's dead letters to their original topic: one (-i offset id or unique key) or all not re-sent yet.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Consumer group.") var group: String
    @Option(name: .customShort("i"), help: "Only this message (offset id or UNIQ_KEY).") var msgId: String?

    func run() async throws {
        try await common.run { admin in
            let (resent, skipped) = try await admin.resendDeadLetters(group: group, msgId: msgId)
            if common.json {
                struct Out: Encodable { var group: String; var resent: Int64; var skipped: Int64 }
                return common.printJSON(Out(group: group, resent: resent, skipped: skipped))
            }
            print("re-sent \(resent) dead letter(s) of \(group)" + (skipped > 0 ? ", skipped \(skipped) (no original topic)" : ""))
        }
    }
}
