import ArgumentParser
import Foundation
import TernClient

struct AdminConsumerProgress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consumerProgress",
                                                    abstract: "A consumer group's offsets and lag per queue.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("g"), help: "Consumer group.") var group: String
    @Option(name: .customShort("t"), help: "Only this topic.") var topic: String?

    func run() async throws {
        try await common.run { admin in
            let progress = try await admin.consumerProgress(group: group, topic: topic)
            if common.json {
                struct Out: Encodable { var group: String; var queues: [ConsumerQueueProgress]; var consumeTps: Double; var diffTotal: Int64 }
                return common.printJSON(Out(group: group, queues: progress.queues, consumeTps: progress.consumeTps,
                                            diffTotal: progress.totalLag))
            }
            guard !progress.queues.isEmpty else { throw AdminFailure("no consume progress for group \(group)") }
            var table = AdminTable("#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime")
            for q in progress.queues {
                table.add(q.topic, q.brokerName, String(q.queueId), String(q.brokerOffset), String(q.consumerOffset),
                          String(q.lag), formatMillis(q.lastTimestamp))
            }
            table.print()
            print("")
            print("Consume TPS: \(String(format: "%.2f", progress.consumeTps))")
            print("Diff Total: \(progress.totalLag)")
            for g in try await admin.groupGetStats(group: group, topic: topic) {
                print("Get \(g.brokerAddress): total \(g.total), last minute \(g.lastPeriod), TPS \(String(format: "%.2f", g.tps))")
            }
        }
    }
}

struct AdminQueryMsgByKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queryMsgByKey", abstract: "Find messages by key.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("t"), help: "Topic name.") var topic: String
    @Option(name: .customShort("k"), help: "Message key.") var key: String

    func run() async throws {
        try await common.run { admin in
            let messages = try await admin.queryMessages(topic: topic, key: key)
            if common.json { return common.printJSON(messages.map(MessageJSON.init)) }
            var table = AdminTable("#Message ID", "#Unique Key", "#QID", "#Offset", "#Store Time")
            for m in messages {
                table.add(m.msgId, m.uniqueKey ?? "-", String(m.queueId), String(m.queueOffset), formatMillis(m.storeTimestamp))
            }
            table.print()
        }
    }
}

struct AdminQueryMsgById: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queryMsgById",
        abstract: "Show a message by offset id (or by unique key when -t is given and the id is not an offset id).")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("i"), help: "Message id.") var msgId: String
    @Option(name: .customShort("t"), help: "Topic, to look the id up as a UNIQ_KEY.") var topic: String?

    func run() async throws {
        try await common.run { admin in
            let messages: [ReceivedMessage]
            do {
                messages = [try await admin.viewMessage(offsetId: msgId)]
            } catch {
                guard let topic else { throw error }
                messages = try await admin.queryMessages(topic: topic, uniqueKey: msgId)
                guard !messages.isEmpty else { throw AdminFailure("no message with id \(msgId) in topic \(topic)") }
            }
            if common.json { return common.printJSON(messages.map(MessageJSON.init)) }
            for (n, m) in messages.enumerated() {
                if n > 0 { print("") }
                printMessage(m)
            }
        }
    }
}

/// A message as mqadmin's queryMsgById prints it, one "Name:  value" row per field.
func printMessage(_ m: ReceivedMessage) {
    let rows: [(String, String)] = [
        ("OffsetID", m.msgId), ("Topic", m.topic), ("Tags", m.tags ?? "-"), ("Keys", m.keys.joined(separator: " ")),
        ("Queue ID", String(m.queueId)), ("Queue Offset", String(m.queueOffset)),
        ("CommitLog Offset", String(m.physicalOffset)), ("Reconsume Times", String(m.reconsumeTimes)),
        ("Born Timestamp", formatMillis(m.bornTimestamp)), ("Store Timestamp", formatMillis(m.storeTimestamp)),
        ("Born Host", m.bornHost), ("Store Host", m.storeHost), ("System Flag", String(m.sysFlag)),
        ("Properties", m.properties.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: ", ")),
        ("Body Size", String(m.body.count)), ("Body", MessageJSON.bodyText(m.body)),
    ]
    for (name, value) in rows { print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + value) }
}

/// JSON view of a message: body as UTF-8 text when valid, else base64.
struct MessageJSON: Encodable {
    var msgId: String
    var uniqueKey: String?
    var topic: String
    var queueId: Int32
    var queueOffset: Int64
    var commitLogOffset: Int64
    var tags: String?
    var keys: [String]
    var bornTimestamp: Int64
    var storeTimestamp: Int64
    var bornHost: String
    var storeHost: String
    var reconsumeTimes: Int32
    var sysFlag: Int32
    var properties: [String: String]
    var body: String?
    var bodyBase64: String?

    init(_ m: ReceivedMessage) {
        msgId = m.msgId; uniqueKey = m.uniqueKey; topic = m.topic; queueId = m.queueId; queueOffset = m.queueOffset
        commitLogOffset = m.physicalOffset; tags = m.tags; keys = m.keys; bornTimestamp = m.bornTimestamp
        storeTimestamp = m.storeTimestamp; bornHost = m.bornHost; storeHost = m.storeHost
        reconsumeTimes = m.reconsumeTimes; sysFlag = m.sysFlag; properties = m.properties
        if let text = String(validating: m.body, as: UTF8.self) { body = text } else { bodyBase64 = Data(m.body).base64EncodedString() }
    }

    /// Printable body, or its size when binary.
    static func bodyText(_ body: [UInt8]) -> String {
        if let text = String(validating: body, as: UTF8.self), !text.contains(where: { $0.isASCII && $0.asciiValue! < 32 && $0 != "\n" && $0 != "\t" }) {
            return text
        }
        return "<\(body.count) binary bytes>"
    }
}
