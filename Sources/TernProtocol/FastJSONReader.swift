/// Reads fastjson's dialect: JSON whose object keys may be any value (`{{"queueId":0}:1}`, `{0:5}`).
/// Accepts trailing whitespace and NULs (C strings); refuses anything else with `FastJSONError`, never traps.
/// Integers that do not fit `Int64` and numbers with a fraction or exponent read as `double`.
public struct FastJSONReader {
    /// Deeper nesting is refused: recursion depth stays bounded whatever the input.
    public static let maxDepth = 64

    private let bytes: [UInt8]
    private var at = 0

    public static func read(_ input: some Sequence<UInt8>) throws -> FastJSON {
        var reader = FastJSONReader(bytes: Array(input))
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        while reader.at < reader.bytes.count, reader.bytes[reader.at] == 0 { reader.at += 1 }
        guard reader.at == reader.bytes.count else { throw reader.fail("end of input") }
        return value
    }

    public static func read(_ text: String) throws -> FastJSON { try read(text.utf8) }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ expected: String) -> FastJSONError { .syntax(offset: at, expected: expected) }

    private mutating func skipSpace() {
        while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else { throw fail(what) }
        at += 1
    }

    private mutating func literal(_ word: String, _ value: FastJSON) throws -> FastJSON {
        for b in word.utf8 {
            guard at < bytes.count, bytes[at] == b else { throw fail(word) }
            at += 1
        }
        return value
    }

    private mutating func value(depth: Int) throws -> FastJSON {
        guard depth < Self.maxDepth else { throw FastJSONError.tooDeep(offset: at) }
        skipSpace()
        guard at < bytes.count else { throw fail("a value") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("a value")
        }
    }

    private mutating func object(depth: Int) throws -> FastJSON {
        at += 1
        var members: [FastJSON.Member] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            return .object(members)
        }
        while true {
            let key = try value(depth: depth + 1)
            try expect(UInt8(ascii: ":"), "':'")
            members.append(.init(key, try value(depth: depth + 1)))
            skipSpace()
            guard at < bytes.count else { throw fail("',' or '}'") }
            if bytes[at] == UInt8(ascii: "}") {
                at += 1
                return .object(members)
            }
            try expect(UInt8(ascii: ","), "',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws -> FastJSON {
        at += 1
        var elements: [FastJSON] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipSpace()
            guard at < bytes.count else { throw fail("',' or ']'") }
            if bytes[at] == UInt8(ascii: "]") {
                at += 1
                return .array(elements)
            }
            try expect(UInt8(ascii: ","), "',' or ']'")
        }
    }

    private mutating func digits() -> Int {
        let start = at
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
        return at - start
    }

    private mutating func number() throws -> FastJSON {
        let start = at
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard digits() > 0 else { throw fail("digits") }
        var whole = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            whole = false
            guard digits() > 0 else { throw fail("fraction digits") }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            whole = false
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw fail("exponent digits") }
        }
        let text = String(decoding: bytes[start..<at], as: UTF8.self)
        if whole, let i = Int64(text) { return .integer(i) }
        guard let d = Double(text), d.isFinite else { throw fail("a finite number") }
        return .double(d)
    }

    private mutating func hex4() throws -> UInt32 {
        guard at + 4 <= bytes.count else { throw fail("4 hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw fail("a hex digit")
            }
            v = v << 4 | UInt32(d)
            at += 1
        }
        return v
    }

    private mutating func string() throws -> String {
        at += 1
        var out: [UInt8] = []
        func append(_ scalar: UInt32) {
            out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
        }
        while at < bytes.count {
            let b = bytes[at]
            at += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                continue
            }
            guard at < bytes.count else { break }
            let e = bytes[at]
            at += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let high = try hex4()
                if (0xD800..<0xDC00).contains(high), at + 6 <= bytes.count,
                   bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") {
                    let mark = at
                    at += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        append(0x10000 + (high - 0xD800) << 10 + (low - 0xDC00))
                    } else {
                        append(0xFFFD)
                        at = mark
                    }
                } else {
                    append(high)
                }
            default: throw fail("an escape")
            }
        }
        throw fail("closing '\"'")
    }
}
