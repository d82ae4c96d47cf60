import TernClient
import TernProtocol

/// What the message search page was asked.
public struct MessageSearch: Sendable, Equatable {
    public var topic = ""
    public var key = ""
    public var id = ""
    public var queue = ""
    public var offset = ""
    public var broker = ""

    public init() {}

    init(_ p: [String: String]) {
        (topic, key, id) = (p["topic"] ?? "", p["key"] ?? "", p["id"] ?? "")
        (queue, offset, broker) = (p["queue"] ?? "", p["offset"] ?? "", p["broker"] ?? "")
    }
}

/// Message search (by topic + key, by message id, by queue + offset), one message's headers, properties and
/// body (text and hex), and its trace (Pub → Store → Sub).
public enum MessagePages {
    /// Body bytes shown as text / hex on a message page.
    public static let bodyPreviewBytes = 4096

    public static func search(_ q: MessageSearch, results: [ReceivedMessage]?, error: String? = nil) -> String {
        var body = ""
        body += "<h2>By key</h2>" + HTML.searchForm("/messages", id: "search-key", [
            HTML.input("topic", label: "Topic", value: q.topic), HTML.input("key", label: "Key", value: q.key),
        ], button: "Search")
        body += "<h2>By message id</h2>" + HTML.searchForm("/messages", id: "search-id", [
            HTML.input("topic", label: "Topic (for a unique id)", value: q.topic), HTML.input("id", label: "Message id", value: q.id),
        ], button: "Search")
        body += "<h2>By queue and offset</h2>" + HTML.searchForm("/messages", id: "search-offset", [
            HTML.input("topic", label: "Topic", value: q.topic), HTML.input("broker", label: "Broker name (empty: first)", value: q.broker),
            HTML.input("queue", label: "Queue", value: q.queue, type: "number"),
            HTML.input("offset", label: "Offset", value: q.offset, type: "number"),
        ], button: "Search")
        if let error { body += HTML.notice(error, kind: "error") }
        if let results {
            body += "<h2>Results</h2>" + HTML.table(id: "results", ["Message id", "Topic", "Queue", "Offset", "Tags", "Keys",
                                                                   "Stored", "Body"], results.map { m in
                [HTML.link(m.uniqueKey ?? m.msgId, "/message", [("topic", m.topic), ("id", m.msgId)]), HTML.text(m.topic),
                 String(m.queueId), String(m.queueOffset), HTML.text(m.tags ?? ""), HTML.text(m.keys.joined(separator: " ")),
                 HTML.text(HTML.time(m.storeTimestamp)), "<span class=\"body-preview\">\(HTML.text(preview(m.body, 80)))</span>"]
            }, empty: "no message found")
        }
        return Layout.page(.messages, title: "Messages", body: body)
    }

    /// The body as text when it is UTF-8, else a note; at most `limit` bytes.
    static func preview(_ bytes: [UInt8], _ limit: Int) -> String {
        let shown = Array(bytes.prefix(limit))
        guard let s = String(validating: shown, as: UTF8.self) else { return "(\(bytes.count) bytes, not UTF-8 text)" }
        return bytes.count > limit ? s + "…" : s
    }

    public static func message(_ m: ReceivedMessage) -> String {
        var body = HTML.table(id: "headers", ["Field", "Value"], [
            ["Offset message id", HTML.text(m.msgId)], ["Unique key", HTML.text(m.uniqueKey ?? "-")],
            ["Topic", HTML.link(m.topic, "/topic", [("name", m.topic)])], ["Queue", String(m.queueId)],
            ["Queue offset", String(m.queueOffset)], ["Commit log offset", String(m.physicalOffset)],
            ["Tags", HTML.text(m.tags ?? "")], ["Keys", HTML.text(m.keys.joined(separator: " "))],
            ["Born", HTML.text("\(HTML.time(m.bornTimestamp)) from \(m.bornHost)")],
            ["Stored", HTML.text("\(HTML.time(m.storeTimestamp)) on \(m.storeHost)")],
            ["Reconsume times", String(m.reconsumeTimes)], ["Flag / sys flag", "\(m.flag) / \(m.sysFlag)"],
            ["Body size", "\(m.body.count) bytes"],
        ])
        body += "<h2>Properties</h2>" + HTML.table(id: "properties", ["Name", "Value"],
                                                  m.properties.sorted { $0.key < $1.key }.map { [HTML.text($0.key), HTML.text($0.value)] })
        body += "<h2>Body (text)</h2><pre id=\"body-text\">\(HTML.text(preview(m.body, bodyPreviewBytes)))</pre>"
        body += "<h2>Body (hex)</h2><pre id=\"body-hex\">\(HTML.text(HTML.hexDump(m.body, limit: bodyPreviewBytes)))</pre>"
        body += "<p>" + HTML.link("Trace of this message", "/trace", [("id", m.uniqueKey ?? m.msgId)]) + "</p>"
        return Layout.page(.messages, title: "Message \(m.uniqueKey ?? m.msgId)", body: body)
    }

    public static func trace(_ id: String, records: [TraceRecord], error: String? = nil) -> String {
        var body = HTML.searchForm("/trace", id: "trace-form", [HTML.input("id", label: "Message id", value: id)], button: "Trace")
        if let error { body += HTML.notice(error, kind: "error") }
        let stages = records.map { r -> String in
            switch r.type {
            case TraceRecord.pub: "Pub"
            case TraceRecord.store: "Store"
            case TraceRecord.subBefore, TraceRecord.subAfter: "Sub"
            default: r.type
            }
        }
        var path: [String] = []
        for s in stages where path.last != s { path.append(s) }
        body += "<p id=\"trace-path\">\(HTML.text(path.isEmpty ? "no trace record" : path.joined(separator: " → ")))</p>"
        body += HTML.table(id: "trace", ["Stage", "Time", "Group / broker", "Topic", "Host", "Cost (ms)", "Success", "Detail"],
                           records.map { r in
            var detail: [String] = []
            if let q = r.queueId { detail.append("queue \(q)") }
            if let o = r.queueOffset { detail.append("offset \(o)") }
            if let t = r.retryTimes { detail.append("retry \(t)") }
            if !r.transactionState.isEmpty { detail.append(r.transactionState) }
            return [HTML.text(r.type), HTML.text(HTML.time(r.timestamp ?? 0)), HTML.text(r.group), HTML.text(r.topic),
                    HTML.text(r.storeHost), r.costMillis.map(String.init) ?? "-", r.success.map { $0 ? "yes" : "no" } ?? "-",
                    HTML.text(detail.joined(separator: ", "))]
        }, empty: "no trace record (tracing off in the clients, or the trace not written yet)")
        return Layout.page(.messages, title: "Trace", body: body)
    }
}
