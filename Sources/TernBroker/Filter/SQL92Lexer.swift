/// Tokens of RocketMQ's SQL92 selector language (features.md §5).
enum SQL92Token: Equatable, Sendable {
    case identifier(String)
    case keyword(Keyword)
    case string(String)
    case integer(Int64)
    case decimal(Double)
    case symbol(Symbol)
    case end

    enum Keyword: String, Sendable { case and, or, not, between, `in`, `is`, null, `true`, `false` }
    enum Symbol: String, Sendable {
        case lparen = "(", rparen = ")", comma = ",", eq = "=", ne = "<>", gt = ">", ge = ">=", lt = "<", le = "<="
        case plus = "+", minus = "-"
    }

    var text: String {
        switch self {
        case .identifier(let s): s
        case .keyword(let k): k.rawValue.uppercased()
        case .string(let s): "'\(s)'"
        case .integer(let v): String(v)
        case .decimal(let v): String(v)
        case .symbol(let s): s.rawValue
        case .end: "end of expression"
        }
    }
}

/// A selector that does not parse; `column` is 1-based.
struct SQL92Error: Error, Equatable, Sendable, CustomStringConvertible {
    var message: String
    var column: Int
    var description: String { "SQL92 parse error at column \(column): \(message)" }
}

/// Splits a selector into tokens with their 1-based columns.
enum SQL92Lexer {
    static func tokenize(_ text: String) throws(SQL92Error) -> [(token: SQL92Token, column: Int)] {
        let s = Array(text.utf8)
        var out: [(SQL92Token, Int)] = []
        var i = 0
        func isIdentStart(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "$")
        }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < s.count {
            let c = s[i], column = i + 1
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C { i += 1; continue }
            if isIdentStart(c) {
                var j = i + 1
                while j < s.count, isIdentStart(s[j]) || isDigit(s[j]) || s[j] == UInt8(ascii: ".") { j += 1 }
                let word = String(decoding: s[i..<j], as: UTF8.self)
                out.append((SQL92Token.Keyword(rawValue: word.lowercased()).map { .keyword($0) } ?? .identifier(word), column))
                i = j
            } else if c == UInt8(ascii: "'") {
                var bytes: [UInt8] = []
                var j = i + 1
                var closed = false
                while j < s.count {
                    if s[j] == UInt8(ascii: "'") {
                        if j + 1 < s.count, s[j + 1] == UInt8(ascii: "'") { bytes.append(s[j]); j += 2; continue }
                        closed = true
                        j += 1
                        break
                    }
                    bytes.append(s[j])
                    j += 1
                }
                guard closed else { throw SQL92Error(message: "unterminated string literal", column: column) }
                out.append((.string(String(decoding: bytes, as: UTF8.self)), column))
                i = j
            } else if isDigit(c) || (c == UInt8(ascii: ".") && i + 1 < s.count && isDigit(s[i + 1])) {
                let (token, next) = try number(s, from: i)
                out.append((token, column))
                i = next
            } else {
                let two = i + 1 < s.count ? String(decoding: s[i...(i + 1)], as: UTF8.self) : ""
                if let sym = SQL92Token.Symbol(rawValue: two) {
                    out.append((.symbol(sym), column)); i += 2
                } else if let sym = SQL92Token.Symbol(rawValue: String(UnicodeScalar(c))) {
                    out.append((.symbol(sym), column)); i += 1
                } else {
                    throw SQL92Error(message: "unexpected character '\(String(decoding: s[i...i], as: UTF8.self))'", column: column)
                }
            }
        }
        out.append((.end, s.count + 1))
        return out
    }

    /// Integer (optional `L` suffix) or decimal (`1.5`, `.5`, `1e3`, `2.5E-2`, optional `d`/`f` suffix).
    private static func number(_ s: [UInt8], from start: Int) throws(SQL92Error) -> (SQL92Token, Int) {
        var j = start
        var isDecimal = false
        func digits() { while j < s.count, s[j] >= 0x30, s[j] <= 0x39 { j += 1 } }
        digits()
        if j < s.count, s[j] == UInt8(ascii: ".") { isDecimal = true; j += 1; digits() }
        if j < s.count, s[j] == UInt8(ascii: "e") || s[j] == UInt8(ascii: "E") {
            isDecimal = true
            j += 1
            if j < s.count, s[j] == UInt8(ascii: "+") || s[j] == UInt8(ascii: "-") { j += 1 }
            let before = j
            digits()
            if j == before { throw SQL92Error(message: "malformed exponent", column: start + 1) }
        }
        let literal = String(decoding: s[start..<j], as: UTF8.self)
        var suffix: UInt8? = nil
        if j < s.count, [UInt8(ascii: "l"), UInt8(ascii: "L"), UInt8(ascii: "d"), UInt8(ascii: "D"),
                         UInt8(ascii: "f"), UInt8(ascii: "F")].contains(s[j]) {
            suffix = s[j] | 0x20
            j += 1
        }
        if j < s.count, (s[j] >= 0x30 && s[j] <= 0x39) || (s[j] | 0x20 >= 0x61 && s[j] | 0x20 <= 0x7A) || s[j] == UInt8(ascii: "_")
            || s[j] == UInt8(ascii: ".") {
            throw SQL92Error(message: "malformed number '\(String(decoding: s[start...j], as: UTF8.self))'", column: start + 1)
        }
        if suffix == UInt8(ascii: "l") {
            guard !isDecimal else { throw SQL92Error(message: "malformed number '\(literal)L'", column: start + 1) }
        } else if suffix != nil {
            isDecimal = true
        }
        if !isDecimal {
            guard let v = Int64(literal) else {
                throw SQL92Error(message: "integer literal \(literal) is out of range", column: start + 1)
            }
            return (.integer(v), j)
        }
        guard let v = Double(literal), v.isFinite else {
            throw SQL92Error(message: "malformed number '\(literal)'", column: start + 1)
        }
        return (.decimal(v), j)
    }
}
