import Foundation
import TernSecurity

/// Parsing what a browser sends: query strings, url-encoded form bodies, HTTP basic credentials, form times.
public enum ConsoleRequest {
    /// Upper bound of a form body (the console's forms are a few short fields).
    public static let formBytesMax = 64 * 1024

    /// `a=1&b=x+y%21` as a dictionary (`+` is a space, percent escapes decoded; the last of repeated keys wins;
    /// malformed escapes are kept as written).
    public static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            out[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }

    /// The account of an `Authorization: Basic base64(accessKey:secretKey)` header; nil when absent or malformed.
    public static func basicCredentials(_ header: String?) -> AclCredentials? {
        guard let header, header.lowercased().hasPrefix("basic ") else { return nil }
        guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        let access = String(text[..<colon]), secret = String(text[text.index(after: colon)...])
        guard !access.isEmpty else { return nil }
        return AclCredentials(accessKey: access, secretKey: secret)
    }

    /// A form's time as epoch milliseconds: digits (milliseconds), or a UTC `yyyy-MM-ddTHH:mm[:ss]` (an HTML
    /// datetime-local input); empty means -1 (RocketMQ's "the end of the queue"). nil when unreadable.
    public static func timestamp(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return -1 }
        if let ms = Int64(t) { return ms }
        var iso = t.replacingOccurrences(of: " ", with: "T")
        if iso.count == 16 { iso += ":00" }
        guard let date = try? Date(iso + "Z", strategy: .iso8601) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// Whether a state-changing request may proceed: a browser names the page a form was sent from in `Origin`;
    /// one from another site (a forged form, with the person's cached basic-auth account) is refused. Requests
    /// without `Origin` (curl, scripts) carry no ambient browser state and pass.
    public static func isSameOrigin(origin: String?, authority: String?) -> Bool {
        guard let origin else { return true }
        guard let authority else { return false }
        return origin == "http://\(authority)" || origin == "https://\(authority)"
    }

    /// A non-negative page number from a query value (0 when absent or unreadable).
    static func page(_ text: String?) -> Int { max(0, text.flatMap { Int($0) } ?? 0) }
}
