/// The page shell: one small inline stylesheet, a navigation bar, no scripts from elsewhere, no fonts.
public enum Layout {
    /// The console's sections, in navigation order.
    public enum Section: String, CaseIterable, Sendable {
        case cluster, topics, groups, messages, deadLetters, flow, replication

        var title: String {
            switch self {
            case .cluster: "Cluster"
            case .topics: "Topics"
            case .groups: "Consumer groups"
            case .messages: "Messages"
            case .deadLetters: "Dead letters"
            case .flow: "Flow limits"
            case .replication: "Replication"
            }
        }

        var path: String {
            switch self {
            case .cluster: "/"
            case .topics: "/topics"
            case .groups: "/groups"
            case .messages: "/messages"
            case .deadLetters: "/dlq"
            case .flow: "/flow"
            case .replication: "/replication"
            }
        }
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
        nav{background:#1f3a5f;padding:8px 16px}nav a{color:#fff;margin-right:16px;text-decoration:none}
        nav a.on{font-weight:bold;text-decoration:underline}nav .brand{font-weight:bold;margin-right:24px;color:#9cf}
        main{padding:12px 16px}table{border-collapse:collapse;margin:8px 0}
        th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#eef}
        td.empty{color:#888}form{margin:8px 0}input{margin-right:8px}
        pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:400px}
        .notice{padding:6px 10px;border-radius:4px}.ok{background:#dfd}.error{background:#fdd}
        .num{font-variant-numeric:tabular-nums}
        """

    /// A whole page: `body` is markup; `title` is escaped.
    public static func page(_ section: Section, title: String, body: String) -> String {
        var out = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(HTML.text(title)) · Tern console</title>"
        out += "<style>\(style)</style></head><body><nav><span class=\"brand\">Tern</span>"
        for s in Section.allCases {
            out += "<a href=\"\(s.path)\" id=\"nav-\(s.rawValue)\"\(s == section ? " class=\"on\"" : "")>\(HTML.text(s.title))</a>"
        }
        out += "</nav><main><h1>\(HTML.text(title))</h1>\(body)</main></body></html>"
        return out
    }

    /// A page that only reports a failure (the broker's answer, escaped).
    public static func error(_ section: Section, title: String, _ error: any Error) -> String {
        page(section, title: title, body: HTML.notice("\(error)", kind: "error"))
    }
}
