import Foundation

/// Building blocks of the console's pages. Every string that came from the broker or the request (topic and
/// group names, keys, properties, bodies, error texts) is hostile input: it reaches the page only through
/// ``HTML/text(_:)`` (element content and quoted attribute values) or ``HTML/query(_:)`` (inside a link), so
/// no stored string can open a tag, close an attribute or start a script.
public enum HTML {
    /// `s` as element text or a double-quoted attribute value: `& < > " '` become entities.
    public static func text(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `s` percent-encoded for a query-string value (RFC 3986 unreserved characters kept).
    public static func query(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A link to `path` with query `parameters` (values encoded), as an attribute-safe string.
    public static func href(_ path: String, _ parameters: [(String, String)] = []) -> String {
        guard !parameters.isEmpty else { return path }
        return text(path + "?" + parameters.map { "\($0.0)=\(query($0.1))" }.joined(separator: "&"))
    }

    /// `<a href=…>label</a>` with `label` escaped.
    public static func link(_ label: String, _ path: String, _ parameters: [(String, String)] = []) -> String {
        "<a href=\"\(href(path, parameters))\">\(text(label))</a>"
    }

    /// A table; `rows` cells are markup (escape data with ``text(_:)`` first). `id` lets tests find it.
    public static func table(id: String, _ header: [String], _ rows: [[String]], empty: String = "none") -> String {
        var out = "<table id=\"\(text(id))\"><thead><tr>"
        for h in header { out += "<th>\(text(h))</th>" }
        out += "</tr></thead><tbody>"
        if rows.isEmpty { out += "<tr><td colspan=\"\(header.count)\" class=\"empty\">\(text(empty))</td></tr>" }
        for row in rows {
            out += "<tr>"
            for cell in row { out += "<td>\(cell)</td>" }
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }

    /// A form field: label + input (`type` text, number, datetime-local, password…), value escaped.
    public static func input(_ name: String, label: String, value: String = "", type: String = "text",
                             required: Bool = false) -> String {
        "<label>\(text(label)) <input type=\"\(type)\" name=\"\(text(name))\" id=\"f-\(text(name))\" value=\"\(text(value))\"\(required ? " required" : "")></label>"
    }

    /// A hidden form field.
    public static func hidden(_ name: String, _ value: String) -> String {
        "<input type=\"hidden\" name=\"\(text(name))\" value=\"\(text(value))\">"
    }

    /// A POST form to `action`; `fields` are markup, `button` the submit label.
    public static func form(_ action: String, id: String, _ fields: [String], button: String, confirm: String? = nil) -> String {
        // The question travels as data (an escaped attribute), never inside the script's source text.
        let onsubmit = confirm.map { " data-confirm=\"\(text($0))\" onsubmit=\"return confirm(this.dataset.confirm)\"" } ?? ""
        return "<form method=\"post\" action=\"\(text(action))\" id=\"\(text(id))\"\(onsubmit)>\(fields.joined(separator: " "))"
            + " <button type=\"submit\">\(text(button))</button></form>"
    }

    /// A GET form (searches, filters).
    public static func searchForm(_ action: String, id: String, _ fields: [String], button: String) -> String {
        "<form method=\"get\" action=\"\(text(action))\" id=\"\(text(id))\">\(fields.joined(separator: " ")) <button type=\"submit\">\(text(button))</button></form>"
    }

    /// A message box (`kind`: ok, error) with escaped text.
    public static func notice(_ message: String, kind: String = "ok") -> String {
        "<p class=\"notice \(kind)\" id=\"notice\">\(text(message))</p>"
    }

    /// Milliseconds since the epoch as UTC `yyyy-MM-dd HH:mm:ss.SSS`; "-" for 0 or less.
    public static func time(_ millis: Int64) -> String {
        guard millis > 0 else { return "-" }
        let days = millis / 86_400_000, inDay = millis % 86_400_000
        // Civil date of a day count (H. Hinnant's days_from_civil inverse), proleptic Gregorian, UTC.
        let z = days + 719_468
        let era = z / 146_097, doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04lld-%02lld-%02lld %02lld:%02lld:%02lld.%03lld", year, month, day, inDay / 3_600_000,
                      inDay / 60_000 % 60, inDay / 1000 % 60, inDay % 1000)
    }

    /// `bytes` as hex, 16 bytes a line with offsets (at most `limit` bytes).
    public static func hexDump(_ bytes: [UInt8], limit: Int = 4096) -> String {
        var lines: [String] = []
        let shown = bytes.prefix(limit)
        var i = 0
        while i < shown.count {
            let chunk = shown[(shown.startIndex + i)..<min(shown.startIndex + i + 16, shown.endIndex)]
            let hex = chunk.map { String(format: "%02x", $0) }.joined(separator: " ")
            let ascii = String(chunk.map { (0x20..<0x7f).contains($0) ? Character(UnicodeScalar($0)) : "." })
            lines.append(String(format: "%08x  ", i) + hex.padding(toLength: 48, withPad: " ", startingAt: 0) + "  " + ascii)
            i += 16
        }
        if bytes.count > limit { lines.append("… \(bytes.count - limit) more bytes") }
        return lines.joined(separator: "\n")
    }
}
