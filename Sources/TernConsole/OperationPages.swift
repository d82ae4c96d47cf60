import Foundation
import TernClient
import TernProtocol

/// Dead-letter queues (list, one group's dead letters, re-push one or all) and flow limits (view and edit).
public enum OperationPages {
    /// One group's `%DLQ%` queue on each master.
    public struct DeadLetterSummary: Sendable {
        public var group: String
        public var queues: [DeadLetters]
        public var error: String?

        public init(group: String, queues: [DeadLetters], error: String? = nil) {
            self.group = group
            self.queues = queues
            self.error = error
        }

        var total: Int64 { queues.reduce(0) { $0 + max(0, $1.maxOffset - $1.minOffset) } }
        var pending: Int64 { queues.reduce(0) { $0 + max(0, $1.maxOffset - max($1.resentOffset, $1.minOffset)) } }
    }

    public static func deadLetterList(_ groups: [DeadLetterSummary]) -> String {
        let rows = groups.map { g in
            [HTML.link(g.group, "/dlq", [("group", g.group)]), "<span class=\"num\">\(g.total)</span>",
             "<span class=\"num dlq-pending\">\(g.pending)</span>", HTML.text(g.error ?? "")]
        }
        let body = "<p>Messages a consumer group gave up on (after its retries) land in <code>%DLQ%&lt;group&gt;</code>.</p>"
            + HTML.table(id: "dlq-groups", ["Group", "Dead letters", "Not re-pushed", "Error"], rows, empty: "no dead-letter queue")
        return Layout.page(.deadLetters, title: "Dead letters", body: body)
    }

    public static func deadLetters(_ group: String, _ queues: [DeadLetters], notice: String? = nil, noticeIsError: Bool = false) -> String {
        var body = notice.map { HTML.notice($0, kind: noticeIsError ? "error" : "ok") } ?? ""
        let rows = queues.flatMap { q in
            q.messages.map { m -> [String] in
                let id = m.uniqueKey ?? m.msgId
                let resent = m.queueOffset < q.resentOffset
                return [HTML.link(id, "/message", [("topic", m.topic), ("id", m.msgId)]),
                        HTML.text(m.properties["RETRY_TOPIC"] ?? m.properties["REAL_TOPIC"] ?? ""),
                        String(m.queueOffset), HTML.text(HTML.time(m.storeTimestamp)),
                        "<span class=\"body-preview\">\(HTML.text(MessagePages.preview(m.body, 80)))</span>",
                        resent ? "re-pushed" : HTML.form("/dlq/resend", id: "resend-\(m.queueOffset)",
                                                        [HTML.hidden("group", group), HTML.hidden("msgId", id)], button: "Re-push")]
            }
        }
        body += HTML.table(id: "dead-letters", ["Message id", "Original topic", "DLQ offset", "Stored", "Body", "Action"], rows,
                           empty: "no dead letter")
        body += HTML.form("/dlq/resend", id: "resend-all", [HTML.hidden("group", group)], button: "Re-push all not re-pushed",
                          confirm: "Re-send every dead letter of \(group) not re-pushed yet to its original topic?")
        return Layout.page(.deadLetters, title: "Dead letters of \(group)", body: body)
    }

    /// Every target broker's limits, and a form to change one.
    public static func flow(_ limits: [String: FlowLimitsBody], notice: String? = nil, noticeIsError: Bool = false) -> String {
        var body = notice.map { HTML.notice($0, kind: noticeIsError ? "error" : "ok") } ?? ""
        for (address, l) in limits.sorted(by: { $0.key < $1.key }) {
            var rows: [[String]] = [
                ["defaultTopicRate", "", rate(l.defaultTopicRateLimit)],
                ["defaultSendBackRate", "", rate(l.sendBackRateLimit)],
                ["defaultPullRate", "", rate(l.defaultGroupPullRateLimit)],
            ]
            func add(_ kind: FlowLimitKind, _ table: [String: Double]) {
                rows += table.sorted { $0.key < $1.key }.map { [kind.rawValue, HTML.text($0.key), rate($0.value)] }
            }
            add(.topicRate, l.topicRateLimits)
            add(.sendBackRate, l.groupSendBackRateLimits)
            add(.pullRate, l.groupPullRateLimits)
            rows += l.dedupWindowSeconds.sorted { $0.key < $1.key }.map { ["dedupWindow", HTML.text($0.key), "\($0.value) s"] }
            body += "<h2>\(HTML.text(address))</h2>"
            body += "<p>Fast failures \(l.fastFailures) · rate limited \(l.rateLimited) · duplicates answered \(l.duplicatesAnswered)</p>"
            body += HTML.table(id: "flow-\(address)", ["Kind", "Topic / group", "Limit"], rows)
        }
        let kinds = FlowLimitKind.allCases.map { "<option value=\"\($0.rawValue)\">\($0.rawValue)</option>" }.joined()
        body += "<h2>Set a limit</h2><p>Rates are messages per second (0 lifts the limit); dedupWindow is seconds. "
            + "Topic / group only for the named kinds. Applied on every master.</p>"
        body += HTML.form("/flow/set", id: "set-flow", [
            "<label>Kind <select name=\"kind\" id=\"f-kind\">\(kinds)</select></label>",
            HTML.input("name", label: "Topic / group"), HTML.input("value", label: "Value", required: true),
        ], button: "Apply")
        return Layout.page(.flow, title: "Flow limits", body: body)
    }

    static func rate(_ v: Double) -> String { v <= 0 ? "unlimited" : String(format: "%g msg/s", v) }
}
