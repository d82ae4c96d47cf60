import Foundation

/// Decodes a topic table (`topics.json`, the `topicConfigSerializeWrapper` of a registration) straight from its
/// bytes. Foundation's `JSONDecoder` spends most of a broker's start in Codable plumbing once there are
/// 100,000 topics (0.8 s of a 0.9 s restart); this single pass builds the `TopicConfig`s directly.
///
/// Same meaning as the Codable path: unknown keys are skipped (nested values included), missing optional fields
/// take `TopicConfig`'s defaults. It takes only plain, valid JSON (UTF-8 checked, no raw control bytes, strict
/// numbers and literals); anything else (escapes aside, which Foundation decodes) falls back to `JSONDecoder`, which
/// either decodes it or throws the usual error. A mutation test holds the two paths to the same answers.
public enum TopicTableDecoder {
    public static func decode(_ bytes: [UInt8]) throws -> TopicConfigSerializeWrapper {
        if let table = fastPath(bytes) { return table }
        return try JSONDecoder().decode(TopicConfigSerializeWrapper.self, from: Data(bytes))
    }

    /// The single pass alone: nil where `decode` falls back to `JSONDecoder`.
    public static func fastPath(_ bytes: [UInt8]) -> TopicConfigSerializeWrapper? {
        var reader = Reader(bytes: bytes)
        guard let table = try? reader.readWrapper(), reader.atEnd() else { return nil }
        return table
    }

    struct Unsupported: Error {}

    /// A cursor over the bytes; every access is bounds-checked (`peek` returns nil past the end).
    struct Reader {
        let bytes: [UInt8]
        var at = 0

        func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipBlanks() {
            while let b = peek(), b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { at += 1 }
        }

        mutating func expect(_ c: UInt8) throws {
            skipBlanks()
            guard peek() == c else { throw Unsupported() }
            at += 1
        }

        /// After the top-level value: only blanks remain.
        mutating func atEnd() -> Bool {
            skipBlanks()
            return at == bytes.count
        }

        /// `{ "key": value, ... }`, calling `field` with the cursor on each value (which it must consume).
        mutating func readObject(_ field: (inout Reader, String) throws -> Void) throws {
            try expect(UInt8(ascii: "{"))
            skipBlanks()
            if peek() == UInt8(ascii: "}") { at += 1; return }
            while true {
                let key = try readString()
                try expect(UInt8(ascii: ":"))
                skipBlanks()
                try field(&self, key)
                skipBlanks()
                guard let b = peek() else { throw Unsupported() }
                at += 1
                if b == UInt8(ascii: "}") { return }
                guard b == UInt8(ascii: ",") else { throw Unsupported() }
                skipBlanks()
            }
        }

        mutating func readString() throws -> String {
            try expect(UInt8(ascii: "\""))
            let start = at
            while let b = peek(), b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") {
                guard b >= 0x20 else { throw Unsupported() }  // JSON forbids raw control bytes in strings
                at += 1
            }
            guard let b = peek() else { throw Unsupported() }
            if b == UInt8(ascii: "\"") {
                guard let s = String(validating: bytes[start..<at], as: UTF8.self) else { throw Unsupported() }
                at += 1
                return s
            }
            // Escapes are rare in topic tables: let Foundation handle the whole string.
            at = start - 1
            let end = try endOfString()
            guard let s = try JSONSerialization.jsonObject(with: Data(bytes[at..<end]), options: .fragmentsAllowed) as? String
            else { throw Unsupported() }
            at = end
            return s
        }

        /// Index just past the closing quote of the string starting at `at`.
        func endOfString() throws -> Int {
            var i = at + 1
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\\"): i += 2
                case UInt8(ascii: "\""): return i + 1
                default: i += 1
                }
            }
            throw Unsupported()
        }

        /// An integer in strict JSON form (no leading zeros, no fraction or exponent: those fall back).
        mutating func readInt() throws -> Int64 {
            skipBlanks()
            var negative = false
            if peek() == UInt8(ascii: "-") { negative = true; at += 1 }
            var value: Int64 = 0, digits = 0
            while let b = peek(), b >= 0x30, b <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(b - 0x30))
                guard !o1, !o2 else { throw Unsupported() }
                value = s
                digits += 1
                at += 1
            }
            guard digits > 0, digits == 1 || bytes[at - digits] != 0x30 else { throw Unsupported() }
            return negative ? -value : value
        }

        mutating func readBool() throws -> Bool {
            skipBlanks()
            if bytes[at...].starts(with: Array("true".utf8)) { at += 4; return true }
            if bytes[at...].starts(with: Array("false".utf8)) { at += 5; return false }
            throw Unsupported()
        }

        /// Skips any JSON value (unknown keys).
        mutating func skipValue() throws {
            skipBlanks()
            guard let b = peek() else { throw Unsupported() }
            switch b {
            case UInt8(ascii: "\""): at = try endOfString()
            case UInt8(ascii: "{"): try readObject { r, _ in try r.skipValue() }
            case UInt8(ascii: "["):
                at += 1
                skipBlanks()
                if peek() == UInt8(ascii: "]") { at += 1; return }
                while true {
                    try skipValue()
                    skipBlanks()
                    guard let c = peek() else { throw Unsupported() }
                    at += 1
                    if c == UInt8(ascii: "]") { return }
                    guard c == UInt8(ascii: ",") else { throw Unsupported() }
                }
            case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
            case UInt8(ascii: "n"):
                guard bytes[at...].starts(with: Array("null".utf8)) else { throw Unsupported() }
                at += 4
            default: try skipNumber()
            }
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
        mutating func skipNumber() throws {
            func digits() -> Int {
                var n = 0
                while let c = peek(), c >= 0x30, c <= 0x39 { at += 1; n += 1 }
                return n
            }
            if peek() == UInt8(ascii: "-") { at += 1 }
            let first = at
            let n = digits()
            guard n > 0, n == 1 || bytes[first] != 0x30 else { throw Unsupported() }
            if peek() == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw Unsupported() }
            }
            if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                at += 1
                if let d = peek(), d == UInt8(ascii: "+") || d == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw Unsupported() }
            }
        }

        mutating func readTopicConfig() throws -> TopicConfig {
            var name: String?
            var c = TopicConfig(topicName: "")
            try readObject { r, key in
                switch key {
                case "topicName": name = try r.readString()
                case "readQueueNums": c.readQueueNums = Int(try r.readInt())
                case "writeQueueNums": c.writeQueueNums = Int(try r.readInt())
                case "perm": c.perm = Int(try r.readInt())
                case "topicFilterType": c.topicFilterType = try r.readString()
                case "topicSysFlag": c.topicSysFlag = Int(try r.readInt())
                case "order": c.order = try r.readBool()
                default: try r.skipValue()
                }
            }
            guard let name else { throw Unsupported() }
            c.topicName = name
            return c
        }

        mutating func readWrapper() throws -> TopicConfigSerializeWrapper {
            var table: [String: TopicConfig]?
            var version: DataVersion?
            try readObject { r, key in
                switch key {
                case "topicConfigTable":
                    var t: [String: TopicConfig] = [:]
                    try r.readObject { r, name in t[name] = try r.readTopicConfig() }
                    table = t
                case "dataVersion":
                    var timestamp: Int64?, counter: Int64 = 0
                    try r.readObject { r, k in
                        switch k {
                        case "timestamp": timestamp = try r.readInt()
                        case "counter": counter = try r.readInt()
                        default: try r.skipValue()
                        }
                    }
                    guard let timestamp else { throw Unsupported() }
                    version = DataVersion(timestamp: timestamp, counter: counter)
                default: try r.skipValue()
                }
            }
            guard let table, let version else { throw Unsupported() }
            return TopicConfigSerializeWrapper(topicConfigTable: table, dataVersion: version)
        }
    }
}
