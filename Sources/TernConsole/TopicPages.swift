import Foundation
import TernClient
import TernProtocol

/// One topic's row on the topic list: its queues' offsets, or why they could not be read.
public struct TopicSummary: Sendable {
    public var name: String
    public var queues: [QueueStats]
    public var error: String?

    public init(name: String, queues: [QueueStats], error: String? = nil) {
        self.name = name
        self.queues = queues
        self.error = error
    }

    /// Messages stored now: the queues' max − min offsets.
    public var messageCount: Int64 { queues.reduce(0) { $0 + max(0, $1.maxOffset - $1.minOffset) } }
}

/// The topic list (filter, pages of ``TopicPages/pageSize``, create form) and one topic's page (queues,
/// put figures, update and delete forms).
public enum TopicPages {
    /// Topics per list page: each row costs one stats request per master.
    public static let pageSize = 100

    /// Internal topics (retry, dead-letter, system) are listed only when asked for.
    public static func isInternal(_ topic: String) -> Bool {
        topic.hasPrefix("%RETRY%") || topic.hasPrefix("%DLQ%") || topic.hasPrefix("rmq_sys_") || topic.hasPrefix("RMQ_SYS_")
            || topic == "TBW102" || topic == "SCHEDULE_TOPIC_XXXX" || topic == "OFFSET_MOVED_EVENT"
            || topic == "SELF_TEST_TOPIC" || topic == "BenchmarkTest" || topic.hasPrefix("RMQ_")
    }

    /// The list: `summaries` are the rows of page `page` (0-based) of `total` matching topics.
    public static func list(_ summaries: [TopicSummary], filter: String, showInternal: Bool, page: Int, total: Int,
                            notice: String? = nil) -> String {
        let rows = summaries.map { t -> [String] in
            let mins = t.queues.map(\.minOffset), maxs = t.queues.map(\.maxOffset)
            return [HTML.link(t.name, "/topic", [("name", t.name)]), "<span class=\"num\">\(t.queues.count)</span>",
                    "<span class=\"num\">\(mins.min().map(String.init) ?? "-")</span>",
                    "<span class=\"num\">\(maxs.max().map(String.init) ?? "-")</span>",
                    "<span class=\"num topic-count\">\(t.messageCount)</span>", HTML.text(t.error ?? "")]
        }
        var body = notice.map { HTML.notice($0) } ?? ""
        body += HTML.searchForm("/topics", id: "topic-filter", [
            HTML.input("filter", label: "Name contains", value: filter),
            "<label><input type=\"checkbox\" name=\"internal\" value=\"1\"\(showInternal ? " checked" : "")> internal topics</label>",
        ], button: "Filter")
        let pages = max(1, (total + pageSize - 1) / pageSize)
        body += "<p id=\"topic-total\">\(total) topic(s), page \(page + 1) of \(pages)"
        func pageLink(_ p: Int, _ label: String) -> String {
            " " + HTML.link(label, "/topics", [("filter", filter), ("internal", showInternal ? "1" : ""), ("page", String(p))])
        }
        if page > 0 { body += pageLink(page - 1, "previous") }
        if page + 1 < pages { body += pageLink(page + 1, "next") }
        body += "</p>"
        body += HTML.table(id: "topics", ["Topic", "Queues", "Min offset", "Max offset", "Messages", "Error"], rows,
                           empty: "no topic")
        body += "<h2>Create or update a topic</h2>" + topicForm(name: "", readQueues: 4, writeQueues: 4, perm: 6, id: "create-topic")
        return Layout.page(.topics, title: "Topics", body: body)
    }

    static func topicForm(name: String, readQueues: Int, writeQueues: Int, perm: Int, id: String) -> String {
        HTML.form("/topic/update", id: id, [
            HTML.input("name", label: "Topic", value: name, required: true),
            HTML.input("readQueues", label: "Read queues", value: String(readQueues), type: "number"),
            HTML.input("writeQueues", label: "Write queues", value: String(writeQueues), type: "number"),
            HTML.input("perm", label: "Perm (2 R, 4 W, 6 RW)", value: String(perm), type: "number"),
        ], button: "Save topic")
    }

    /// One topic: queues with offsets, put figures per broker, the route's queue settings, update and delete.
    public static func topic(_ name: String, queues: [QueueStats], puts: [TopicPutStats], route: TopicRouteData?,
                             notice: String? = nil) -> String {
        var body = notice.map { HTML.notice($0) } ?? ""
        let summary = TopicSummary(name: name, queues: queues)
        body += "<p>Messages stored: <b id=\"topic-messages\" class=\"num\">\(summary.messageCount)</b></p>"
        body += HTML.table(id: "queues", ["Broker", "Queue", "Min offset", "Max offset", "Messages", "Last stored"],
                           queues.map { q in
                               [HTML.text(q.brokerName), String(q.queueId), String(q.minOffset), String(q.maxOffset),
                                String(max(0, q.maxOffset - q.minOffset)), HTML.text(HTML.time(q.lastUpdateTimestamp))]
                           })
        body += "<h2>Put figures</h2>" + HTML.table(id: "puts", ["Broker", "Put since start", "Last period", "TPS"], puts.map { p in
            [HTML.text(p.brokerAddress), String(p.total), String(p.lastPeriod), String(format: "%.2f", p.tps)]
        })
        body += "<h2>Route</h2>" + HTML.table(id: "route", ["Broker", "Read queues", "Write queues", "Perm"],
                                              (route?.queueDatas ?? []).map { q in
                                                  [HTML.text(q.brokerName), String(q.readQueueNums), String(q.writeQueueNums), String(q.perm)]
                                              })
        body += "<p>" + HTML.link("Search this topic's messages", "/messages", [("topic", name)]) + "</p>"
        let q = route?.queueDatas.first
        body += "<h2>Update</h2>" + topicForm(name: name, readQueues: q?.readQueueNums ?? 4, writeQueues: q?.writeQueueNums ?? 4,
                                             perm: q?.perm ?? 6, id: "update-topic")
        body += "<h2>Delete</h2>" + HTML.form("/topic/delete", id: "delete-topic", [HTML.hidden("name", name)],
                                             button: "Delete topic", confirm: "Delete topic \(name) on every master?")
        return Layout.page(.topics, title: "Topic \(name)", body: body)
    }
}
