extension JSONReader {
    /// Reads a string token, calling `body` with its UTF-8 in order and in pieces: each stretch between escapes
    /// straight from the input, each escape's decoded bytes (one scalar) from the stack. Nothing is allocated;
    /// bytes are passed as they are (invalid UTF-8 is not repaired here).
    ///
    /// An escape always decodes to one whole scalar, so a stretch of input bytes never joins its neighbours into
    /// a multi-byte sequence: repairing each piece on its own repairs the whole string the same way.
    mutating func readStringRuns(_ body: (UnsafeRawBufferPointer) -> Void) throws {
        try expectByte(.quote, "'\"'")
        var start = position
        while true {
            guard let byte = byte(at: position) else { throw malformed("unterminated string") }
            guard byte == .quote || byte == .backslash else {
                position += 1
                continue
            }
            if position > start { body(UnsafeRawBufferPointer(rebasing: slice(start, position))) }
            position += 1
            if byte == .quote { return }
            try readEscape(body)
            start = position
        }
    }

    /// Reads the escape after a backslash and passes its UTF-8 bytes to `body`.
    private mutating func readEscape(_ body: (UnsafeRawBufferPointer) -> Void) throws {
        guard let escaped = byte(at: position) else { throw malformed("unterminated escape") }
        position += 1
        let scalar: Unicode.Scalar
        switch escaped {
        case UInt8(ascii: "b"): scalar = "\u{08}"
        case UInt8(ascii: "f"): scalar = "\u{0C}"
        case UInt8(ascii: "n"): scalar = "\n"
        case UInt8(ascii: "r"): scalar = "\r"
        case UInt8(ascii: "t"): scalar = "\t"
        case UInt8(ascii: "u"): scalar = try readUnicodeEscape()
        // `"`, `\`, `/` and, leniently, any unknown escape stand for the byte itself.
        default: return withUnsafeBytes(of: escaped) { body($0) }
        }
        withUnsafeTemporaryAllocation(byteCount: 4, alignment: 1) { utf8 in
            var count = 0
            UTF8.encode(scalar) { unit in
                utf8[count] = unit
                count += 1
            }
            body(UnsafeRawBufferPointer(rebasing: utf8[0 ..< count]))
        }
    }
}

extension JSONReader {
    /// The longest string token ``withUnescapedASCII(_:_:)`` decodes on the stack.
    static let asciiTokenByteCountMax = 2_048

    /// Calls `body` once with the decoded bytes of the string token `token` (opening to closing quote, as the
    /// decoder found it) when they are all ASCII and the token is at most ``asciiTokenByteCountMax`` bytes: one
    /// pass into a stack buffer. Returns false, without calling `body`, otherwise (a non-ASCII byte or escape, a
    /// longer or malformed token): the caller then reads the runs (``readStringRuns(_:)``) and repairs invalid
    /// UTF-8. Same bytes as ``readStringRuns(_:)`` where it answers: an escaped header value (properties carry
    /// `\u0001` / `\u0002` separators) then costs one call instead of one per stretch and escape.
    static func withUnescapedASCII(_ token: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard token.count <= asciiTokenByteCountMax else { return false }
        return withUnsafeTemporaryAllocation(byteCount: token.count, alignment: 1) { out in
            guard let used = unescapeASCII(token, into: out) else { return false }
            body(UnsafeRawBufferPointer(rebasing: out[0 ..< used]))
            return true
        }
    }

    /// Writes the decoded bytes of the string token `token` (quotes included) into `out` when they are all ASCII
    /// and `out` holds at least `token.count - 2` bytes (a token never decodes longer than its content); returns
    /// how many, or nil (a non-ASCII byte or escape, a malformed token, a short `out`: nothing promised of `out`).
    /// The same bytes as ``readStringRuns(_:)`` where it answers.
    static func unescapeASCII(_ token: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard token.count >= 2, out.count >= token.count - 2,
              token[0] == .quote, token[token.count - 1] == .quote else { return nil }
        let last = token.count - 1  // the closing quote
        var i = 1, used = 0
        while i < last {
            // Plain stretches a word at a time (`used <= i - 1`, so `out` has room for what `token` has left).
            let plainEnd = plainWordsEnd(token, from: i, to: last)
            if plainEnd > i {
                (out.baseAddress! + used).copyMemory(from: token.baseAddress! + i, byteCount: plainEnd - i)
                used &+= plainEnd - i
                i = plainEnd
                if i >= last { break }
            }
            let byte = token[i]
            guard byte < 0x80 else { return nil }
            guard byte == .backslash else {
                out[used] = byte
                used &+= 1
                i &+= 1
                continue
            }
            guard i + 1 < last else { return nil }
            let escaped = token[i + 1]
            var decoded = escaped
            switch escaped {
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                guard i + 5 < last else { return nil }
                var scalar: UInt32 = 0
                for k in 2...5 {
                    guard let digit = hexValue(token[i + k]) else { return nil }
                    scalar = scalar << 4 | UInt32(digit)
                }
                guard scalar < 0x80 else { return nil }
                decoded = UInt8(scalar)
                i &+= 4
            default:
                break  // `"`, `\`, `/` and, leniently, any other escape stand for the byte itself
            }
            guard decoded < 0x80 else { return nil }
            out[used] = decoded
            used &+= 1
            i &+= 2
        }
        return used
    }
}
