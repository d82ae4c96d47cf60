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
