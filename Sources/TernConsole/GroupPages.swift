import Foundation
import TernClient
import TernProtocol

/// One consumer group's row on the group list, summed over the masters.
public struct GroupSummary: Sendable, Equatable {
    public var name: String
    public var topics: [String]
    public var lag: Int64
    public var consumeTps: Double

    public init(name: String, topics: [String], lag: Int64, consumeTps: Double) {
        self.name = name
        self.topics = topics
        self.lag = lag
        self.consumeTps = consumeTps
    }

    /// A row from the group's progress on every master (GET_CONSUME_STATS).
    public init(name: String, progress: ConsumerProgress) {
        self.init(name: name, topics: Array(Set(progress.queues.map(\.topic))).sorted(), lag: progress.totalLag,
                  consumeTps: progress.consumeTps)
    }
}

/// The consumer-group list and one group's page: members, lag per queue, reset offset by time.
public enum GroupPages {
    /// Groups per list page: each row costs one consume-stats request per master (a broker's all-groups answer
    /// grows with every group and topic, so the list asks per shown group instead).
    public static let pageSize = 100

    /// Groups Tern and RocketMQ create for themselves.
    public static func isInternal(_ group: String) -> Bool {
        ["TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP", "CID_ONSAPI_OWNER", "CID_ONSAPI_PERMISSION",
         "CID_ONSAPI_PULL", "CID_RMQ_SYS_TRANS", "CID_SYS_RMQ_TRANS"].contains(group) || group.hasPrefix("CID_RMQ_SYS_")
    }

    public static func list(_ groups: [GroupSummary], filter: String, page: Int, total: Int) -> String {
        var body = HTML.searchForm("/groups", id: "group-filter", [HTML.input("filter", label: "Name contains", value: filter)],
                                   button: "Filter")
        let pages = max(1, (total + pageSize - 1) / pageSize)
        body += "<p id=\"group-total\">\(total) group(s), page \(page + 1) of \(pages)"
        if page > 0 { body += " " + HTML.link("previous", "/groups", [("filter", filter), ("page", String(page - 1))]) }
        if page + 1 < pages { body += " " + HTML.link("next", "/groups", [("filter", filter), ("page", String(page + 1))]) }
        body += "</p>"
        body += HTML.table(id: "groups", ["Group", "Topics", "Lag", "Consume TPS"], groups.map { g in
            [HTML.link(g.name, "/group", [("name", g.name)]), HTML.text(g.topics.joined(separator: ", ")),
             "<span class=\"num group-lag\">\(g.lag)</span>", String(format: "%.2f", g.consumeTps)]
        }, empty: "no consumer group")
        return Layout.page(.groups, title: "Consumer groups", body: body)
    }

    /// `connection`: the online members, or nil with `offlineReason` (the broker's answer) when none is online.
    public static func group(_ name: String, progress: ConsumerProgress, connection: ConsumerConnectionBody?,
                             offlineReason: String?, notice: String? = nil, noticeIsError: Bool = false) -> String {
        var body = notice.map { HTML.notice($0, kind: noticeIsError ? "error" : "ok") } ?? ""
        body += "<p>Total lag: <b id=\"group-lag\" class=\"num\">\(progress.totalLag)</b> · consume TPS "
            + String(format: "%.2f", progress.consumeTps) + "</p>"
        body += "<h2>Members</h2>"
        if let connection {
            body += "<p>\(HTML.text(connection.consumeType)) · \(HTML.text(connection.messageModel)) · from "
                + "\(HTML.text(connection.consumeFromWhere))</p>"
            body += HTML.table(id: "members", ["Client id", "Address", "Language", "Version"], connection.connectionSet.map { c in
                [HTML.text(c.clientId), HTML.text(c.clientAddr), HTML.text(c.language), String(c.version)]
            })
            body += HTML.table(id: "subscriptions", ["Topic", "Expression"], connection.subscriptionTable.sorted { $0.key < $1.key }.map {
                [HTML.text($0.key), HTML.text($0.value.subString)]
            })
        } else {
            body += "<p id=\"members-offline\">No member online: \(HTML.text(offlineReason ?? "not online"))</p>"
        }
        body += "<h2>Lag per queue</h2>" + HTML.table(id: "progress", ["Topic", "Broker", "Queue", "Broker offset",
                                                                    "Consumer offset", "Lag", "Last consumed"],
                                                     progress.queues.map { q in
            [HTML.link(q.topic, "/topic", [("name", q.topic)]), HTML.text(q.brokerName), String(q.queueId),
             String(q.brokerOffset), String(q.consumerOffset), "<span class=\"num queue-lag\">\(q.lag)</span>",
             HTML.text(HTML.time(q.lastTimestamp))]
        }, empty: "no committed offset")
        let topics = Array(Set(progress.queues.map(\.topic))).sorted()
        let options = topics.map { "<option value=\"\(HTML.text($0))\">\(HTML.text($0))</option>" }.joined()
        body += "<h2>Reset offset by time</h2><p>Moves the group's offsets on every master of the topic to the first "
            + "message stored at or after the time (UTC); empty time: the end of each queue.</p>"
        body += HTML.form("/group/reset", id: "reset-offset", [
            HTML.hidden("group", name),
            "<label>Topic <select name=\"topic\" id=\"f-topic\">\(options)</select></label>",
            HTML.input("time", label: "Time (UTC)", type: "datetime-local"),
        ], button: "Reset offset")
        return Layout.page(.groups, title: "Consumer group \(name)", body: body)
    }
}
