import ArgumentParser
import TernClient
import TernProtocol

struct AdminTrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show a message's trace: send, broker store and consume events with times, cost and status.")

    @OptionGroup var common: AdminOptions
    @Option(name: .customShort("i"), help: "Message id (unique key or offset id).") var msgId: String
    @Option(name: .customShort("t"), help: "Trace topic.") var traceTopic = AdminClient.defaultTraceTopic

    func run() async throws {
        try await common.run { admin in
            let records = try await admin.trace(msgId: msgId, traceTopic: traceTopic)
            if common.json { return common.printJSON(records.map(TraceJSON.init)) }
            guard !records.isEmpty else { throw AdminFailure("no trace for message \(msgId) in \(traceTopic)") }
            var table = AdminTable("#Type", "#Time", "#Group", "#Host", "#Cost(ms)", "#Status", "#Detail")
            for r in records {
                table.add(r.type, formatMillis(r.timestamp ?? 0), r.group.isEmpty ? "-" : r.group,
                          r.storeHost.isEmpty ? "-" : r.storeHost, r.costMillis.map(String.init) ?? "-",
                          Self.status(r), Self.detail(r))
            }
            table.print()
        }
    }

    static func status(_ r: TraceRecord) -> String {
        if r.type == TraceRecord.endTransaction { return r.transactionState.isEmpty ? "-" : r.transactionState }
        guard let ok = r.success else { return "-" }
        return ok ? "success" : "failed"
    }

    static func detail(_ r: TraceRecord) -> String {
        var parts: [String] = []
        if !r.topic.isEmpty { parts.append("topic=\(r.topic)") }
        if !r.tags.isEmpty, r.tags != "null" { parts.append("tags=\(r.tags)") }
        if !r.keys.isEmpty, r.keys != "null" { parts.append("keys=\(r.keys)") }
        if let q = r.queueId { parts.append("queue=\(q)") }
        if let o = r.queueOffset { parts.append("offset=\(o)") }
        if let n = r.retryTimes { parts.append("retry=\(n)") }
        if !r.offsetMsgId.isEmpty { parts.append("offsetMsgId=\(r.offsetMsgId)") }
        return parts.joined(separator: " ")
    }
}

struct TraceJSON: Encodable {
    var type: String
    var timestamp: Int64?
    var group: String
    var host: String
    var costMillis: Int64?
    var status: String
    var msgId: String
    var offsetMsgId: String
    var topic: String
    var queueId: Int?
    var queueOffset: Int64?
    var retryTimes: Int?

    init(_ r: TraceRecord) {
        (type, timestamp, group, host, costMillis) = (r.type, r.timestamp, r.group, r.storeHost, r.costMillis)
        (status, msgId, offsetMsgId, topic) = (AdminTrace.status(r), r.msgId, r.offsetMsgId, r.topic)
        (queueId, queueOffset, retryTimes) = (r.queueId, r.queueOffset, r.retryTimes)
    }
}
