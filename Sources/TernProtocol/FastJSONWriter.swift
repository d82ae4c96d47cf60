/// Writes `FastJSON` as fastjson's `JSON.toJSONString` does with default features: no whitespace, keys quoted
/// when they are strings and written as values otherwise, control characters escaped, `/` and non-ASCII as is.
public enum FastJSONWriter {
    public static func write(_ value: FastJSON) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    public static func write(_ value: FastJSON, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .double(let d): out += javaDouble(d)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += "," }
                write(e, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                write(m.key, into: &out)
                out += ":"
                write(m.value, into: &out)
            }
            out += "}"
        }
    }

    /// `Double.toString` for the values admin bodies carry: a whole number keeps `.0`; non-finite is `null`
    /// (fastjson's choice). Other values use the shortest round-trip form, which Java's parser reads back.
    static func javaDouble(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e7 { return "\(Int64(d)).0" }
        return "\(d)"
    }

    private static let hex: [Character] = Array("0123456789abcdef")

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    out += "\\u00"
                    out.append(hex[Int(u.value >> 4)])
                    out.append(hex[Int(u.value & 0xF)])
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
