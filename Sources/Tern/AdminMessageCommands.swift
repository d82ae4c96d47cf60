import ArgumentParser
import Foundation
import TernClient
import TernProtocol

struct AdminQueryMsgByOffset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queryMsgByOffset",
        abstract: "Show the message at one queue offset (pulled as TOOLS_CONSUMER, as mqadmin does).")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String
    @Option(name: .customShort("b"), help: "Broker name.") var brokerName: String
    @Option(name: .customShort("i"), help: "Queue id.") var queueId: Int
    @Option(name: .customShort("o"), help: "Queue offset.") var offset: Int64

    func run() async throws {
        try await common.run { admin in
            let queue = MessageQueue(topic: topic, brokerName: brokerName, queueId: queueId)
            guard let message = try await admin.message(queue: queue, offset: offset) else {
                throw AdminFailure("no message at offset \(offset) of \(queue)")
            }
            if common.json { return common.printJSON(MessageJSON(message)) }
            printMessage(message)
            let groups = try await admin.consumerGroups(topic: topic)
            print("Consumer Groups".padding(toLength: 18, withPad: " ", startingAt: 0)
                + (groups.isEmpty ? "- (no consumer)" : groups.joined(separator: ", ")))
        }
    }
}

struct AdminPrintMsg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "printMsg",
        abstract: "Print every message of a topic, queue by queue (optionally a time range or a tag expression).")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String
    @Option(name: .customShort("s"), help: "Subscription expression (tags).") var subExpression = "*"
    @Option(name: .customShort("b"), help: "Begin time: ms since 1970, 'now', or yyyy-MM-dd#HH:mm:ss:SSS (local).")
    var begin: String?
    @Option(name: .customShort("e"), help: "End time, as -b.") var end: String?
    @Option(name: .customShort("d"), help: "Print each message's body (default true).") var printBody = true

    func run() async throws {
        func time(_ text: String?, _ option: String) throws -> Int64? {
            guard let text else { return nil }
            guard let ms = AdminResetOffsetByTime.parse(text) else { throw ValidationError("\(option): not a time: \(text)") }
            return ms
        }
        let (from, to) = (try time(begin, "-b"), try time(end, "-e"))
        try await common.run { admin in
            var all: [MessageJSON] = []
            try await admin.printMessages(topic: topic, subscription: subExpression, begin: from, end: to) { range, messages in
                if common.json { return all += messages.map(MessageJSON.init) }
                if messages.isEmpty {
                    return print("minOffset=\(range.minOffset), maxOffset=\(range.maxOffset), \(range.queue)")
                }
                for m in messages {
                    var line = "MSGID: \(m.msgId) queueOffset=\(m.queueOffset) tags=\(m.tags ?? "-") keys=\(m.keys.joined(separator: " "))"
                    if printBody { line += " BODY: \(MessageJSON.bodyText(m.body))" }
                    print(line)
                }
            }
            if common.json { common.printJSON(all) }
        }
    }
}
