extension JSONReader {
    /// Reads a string token. Invalid UTF-8 is replaced with U+FFFD by `String(decoding:)`, never trapped on.
    mutating func readString() throws -> String {
        try expectByte(.quote, "'\"'")
        let start = position
        // Fast path: no escapes, decode straight from the buffer.
        while let byte = byte(at: position), byte != .quote, byte != .backslash { position += 1 }
        guard let stop = byte(at: position) else { throw malformed("unterminated string") }
        if stop == .quote {
            position += 1
            return String(decoding: slice(start, position - 1), as: UTF8.self)
        }
        var utf8 = Array(slice(start, position))
        while true {
            guard let byte = byte(at: position) else { throw malformed("unterminated string") }
            position += 1
            switch byte {
            case .quote: return String(decoding: utf8, as: UTF8.self)
            case .backslash: try readEscape(into: &utf8)
            default: utf8.append(byte)
            }
        }
    }

    /// Reads the escape after a backslash and appends its UTF-8 bytes.
    private mutating func readEscape(into utf8: inout [UInt8]) throws {
        guard let escaped = byte(at: position) else { throw malformed("unterminated escape") }
        position += 1
        switch escaped {
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(.newline)
        case UInt8(ascii: "r"): utf8.append(.carriageReturn)
        case UInt8(ascii: "t"): utf8.append(.tab)
        case UInt8(ascii: "u"): appendScalar(try readUnicodeEscape(), to: &utf8)
        // `"`, `\`, `/` and, leniently, any unknown escape stand for the byte itself.
        default: utf8.append(escaped)
        }
    }

    /// Reads `XXXX` after `\u`, joining a surrogate pair written as two escapes. Lone surrogates become U+FFFD.
    private mutating func readUnicodeEscape() throws -> Unicode.Scalar {
        let unit = try readHex4()
        switch unit {
        case 0xD800 ... 0xDBFF:
            let save = position
            if byte(at: position) == .backslash, byte(at: position + 1) == UInt8(ascii: "u") {
                position += 2
                let low = try readHex4()
                if (0xDC00 ... 0xDFFF).contains(low) {
                    let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    return Unicode.Scalar(value) ?? "\u{FFFD}"
                }
                position = save  // Not a low surrogate: it is an escape of its own.
            }
            return "\u{FFFD}"
        case 0xDC00 ... 0xDFFF:
            return "\u{FFFD}"
        default:
            return Unicode.Scalar(unit) ?? "\u{FFFD}"
        }
    }

    private mutating func readHex4() throws -> UInt16 {
        var value: UInt16 = 0
        for _ in 0 ..< 4 {
            guard let byte = byte(at: position) else { throw malformed("truncated \\u escape") }
            let digit: UInt8
            switch byte {
            case .digit0 ... .digit9: digit = byte - .digit0
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("bad hex digit in \\u escape")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    private func appendScalar(_ scalar: Unicode.Scalar, to utf8: inout [UInt8]) {
        utf8.append(contentsOf: UTF8.encode(scalar)!)
    }

    /// Reads a number token and renders it as decimal text: integers as written, integral non-integers
    /// (`4.0`, `1e3`) as integers, other values as Swift prints the `Double`.
    mutating func readNumberText() throws -> String {
        let start = position
        var isInteger = true
        if byte(at: position) == .minus { position += 1 }
        guard skipDigits() else { throw malformed("number without digits") }
        if byte(at: position) == .dot {
            isInteger = false
            position += 1
            guard skipDigits() else { throw malformed("number without fraction digits") }
        }
        if let byte = byte(at: position), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if let sign = self.byte(at: position), sign == .plus || sign == .minus { position += 1 }
            guard skipDigits() else { throw malformed("number without exponent digits") }
        }
        let text = String(decoding: slice(start, position), as: UTF8.self)
        if isInteger { return text }
        guard let value = Double(text), value.isFinite else { throw malformed("number out of range") }
        // Integral values below 2^53 are exact in a Double and print without a fraction.
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return String(value)
    }

    /// Skips `[0-9]*`; true if at least one digit was skipped.
    private mutating func skipDigits() -> Bool {
        let start = position
        while let byte = byte(at: position), byte >= .digit0, byte <= .digit9 { position += 1 }
        return position > start
    }
}
