extension JSONReader {
    /// Reads a string token. Invalid UTF-8 is replaced with U+FFFD by `String(decoding:)`, never trapped on.
    mutating func readString() throws -> String {
        try readStringToken({ String(decoding: $0, as: UTF8.self) }, { String(decoding: $0, as: UTF8.self) })
    }

    /// A string token: `plain` gets the bytes between the quotes when there is no escape (decoded straight from
    /// the buffer), `escaped` the decoded bytes otherwise.
    private mutating func readStringToken<T>(_ plain: (Slice<UnsafeRawBufferPointer>) -> T,
                                             _ escaped: ([UInt8]) -> T) throws -> T {
        try expectByte(.quote, "'\"'")
        let start = position
        while let byte = byte(at: position), byte != .quote, byte != .backslash { position += 1 }
        guard let stop = byte(at: position) else { throw malformed("unterminated string") }
        if stop == .quote {
            position += 1
            return plain(slice(start, position - 1))
        }
        return escaped(try readEscapedTail(from: start))
    }

    /// The decoded bytes of the string whose opening quote is at `start - 1`, `position` at its first backslash.
    private mutating func readEscapedTail(from start: Int) throws -> [UInt8] {
        var utf8: [UInt8] = []
        // An escape never decodes longer than it is written: the rest of the header bounds the result.
        utf8.reserveCapacity(bytes.count - start)
        position = start - 1
        try readStringRuns { utf8.append(contentsOf: $0) }
        return utf8
    }

    /// Moves past a string token, checking it as ``readString()`` would, without decoding it. Returns true when
    /// its content is ASCII without escapes (the bytes between the quotes are the value).
    mutating func skipString() throws -> Bool {
        try expectByte(.quote, "'\"'")
        var high: UInt8 = 0, escaped = false
        while true {
            position = Self.plainWordsEnd(bytes, from: position, to: bytes.count)
            guard let byte = byte(at: position) else { throw malformed("unterminated string") }
            position += 1
            switch byte {
            case .quote: return high < 0x80 && !escaped
            case .backslash:
                escaped = true
                guard let escape = self.byte(at: position) else { throw malformed("unterminated escape") }
                position += 1
                if escape == UInt8(ascii: "u") { _ = try readUnicodeEscape() }
            default: high |= byte
            }
        }
    }

    /// Reads `XXXX` after `\u`, joining a surrogate pair written as two escapes. Lone surrogates become U+FFFD.
    mutating func readUnicodeEscape() throws -> Unicode.Scalar {
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
            guard let digit = Self.hexValue(byte) else { throw malformed("bad hex digit in \\u escape") }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    /// The end of the run of whole 8-byte words from `start` (before `end`) that hold no quote, no backslash and
    /// no byte of 0x80 or more: every byte before it is plain ASCII a string scan passes over. The caller goes on
    /// byte by byte from there. A word at a time: string values (a send's properties, a signature) were scanned a
    /// byte per iteration, with a branch per byte.
    @inline(__always)
    static func plainWordsEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        guard let base = bytes.baseAddress, start >= 0 else { return start }
        var i = start
        while i + 8 <= end {
            let word = (base + i).loadUnaligned(as: UInt64.self)
            // With no high bit set, `(x - 0x01…) & ~x & 0x80…` is non-zero exactly when a byte of x is zero.
            let quote = word ^ 0x2222_2222_2222_2222, backslash = word ^ 0x5C5C_5C5C_5C5C_5C5C
            let zero = ((quote &- 0x0101_0101_0101_0101) & ~quote) | ((backslash &- 0x0101_0101_0101_0101) & ~backslash)
            if (word | zero) & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        return i
    }

    /// The value of the hex digit `byte` (either case), nil for other bytes.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case .digit0 ... .digit9: byte - .digit0
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Reads a number token and renders it as decimal text: integers as written, integral non-integers
    /// (`4.0`, `1e3`) as integers, other values as Swift prints the `Double`.
    mutating func readNumberText() throws -> String {
        let start = position
        return try readNumberToken() ?? String(decoding: slice(start, position), as: UTF8.self)
    }

    /// Reads a number token: nil for an integer (its text is the token as written, no String built), else the
    /// rendering ``readNumberText()`` describes.
    mutating func readNumberToken() throws -> String? {
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
        if isInteger { return nil }
        let text = String(decoding: slice(start, position), as: UTF8.self)
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
