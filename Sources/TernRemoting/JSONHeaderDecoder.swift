import NIOCore

/// Decodes a JSON `RemotingCommand` header (serialize type 0) with a lenient, byte-level reader.
///
/// Lenient where real clients differ from strict JSON, strict where the bytes make no sense:
/// - extFields values may be strings, numbers (kept as plain decimal text; integral values never get `.0`),
///   booleans (`"true"`/`"false"`) or `null` (the field is absent); a nested array or object is kept as its
///   JSON text, as Java's map conversion would.
/// - Strings may hold raw control bytes and invalid UTF-8 (replaced by U+FFFD, never trapped on); escapes
///   include `\uXXXX` with surrogate pairs; a lone surrogate becomes U+FFFD, an unknown escape keeps its byte.
/// - Integer fields accept numbers or numeric strings; `remark` accepts a string, a scalar or `null`.
/// - Unknown top-level keys (`serializeTypeCurrentRPC` among them) are skipped, nested values included.
/// - A UTF-8 byte order mark before, and whitespace or NUL bytes after, the object are ignored.
/// Anything else (truncation, a missing colon, trailing garbage, nesting beyond
/// ``RemotingLimits/jsonNestingDepthMax``) throws ``RemotingError/malformedHeader(reason:offset:)``.
///
/// Cost: one pass over the header; strings without escapes are decoded straight from the buffer, and extFields
/// string and integer values are only located (``RemotingExtFields`` builds a String when one is read).
enum JSONHeaderDecoder {
    static func decode(_ header: ByteBuffer, recycler: ExtFieldsRecycler? = nil) throws -> RemotingCommand {
        try header.withUnsafeReadableBytes { bytes in
            var reader = JSONReader(bytes: bytes, source: header, recycler: recycler)
            return try reader.readHeader()
        }
    }
}

/// A cursor over the header bytes. Every read checks `position < bytes.count` first, so no input can make it
/// read outside the buffer. It never escapes the `withUnsafeReadableBytes` closure that created it.
struct JSONReader {
    let bytes: UnsafeRawBufferPointer
    /// The buffer `bytes` are the readable bytes of, when extFields values may refer to it (a header).
    private let source: ByteBuffer?
    /// Where a finished request's extFields table waits to be refilled.
    private let recycler: ExtFieldsRecycler?
    /// Index of the next byte to read; `0 <= position <= bytes.count`.
    var position = 0

    init(bytes: UnsafeRawBufferPointer, source: ByteBuffer? = nil, recycler: ExtFieldsRecycler? = nil) {
        self.bytes = bytes
        self.source = source
        self.recycler = recycler
    }

    func malformed(_ reason: String) -> RemotingError {
        .malformedHeader(reason: reason, offset: position)
    }

    /// The byte at `index`, or nil past the end: the only way the reader looks at the input.
    func byte(at index: Int) -> UInt8? { index >= 0 && index < bytes.count ? bytes[index] : nil }

    /// The bytes in `start ..< end`. Precondition: both lie within the already-checked range.
    func slice(_ start: Int, _ end: Int) -> Slice<UnsafeRawBufferPointer> {
        precondition(0 <= start && start <= end && end <= bytes.count)
        return bytes[start ..< end]
    }

    private var current: UInt8? { byte(at: position) }

    private mutating func skipWhitespace() {
        while let byte = current, byte == .space || byte == .tab || byte == .newline || byte == .carriageReturn {
            position += 1
        }
    }

    /// `what` is only built for the error (an interpolated description per container showed in send profiles).
    mutating func expectByte(_ byte: UInt8, _ what: @autoclosure () -> String) throws {
        guard current == byte else { throw malformed("expected \(what())") }
        position += 1
    }

    // MARK: Header object

    mutating func readHeader() throws -> RemotingCommand {
        // Java's field defaults for keys that are missing.
        var command = RemotingCommand(code: 0, language: .java, version: 0, serializeType: .json)
        if byte(at: 0) == 0xEF, byte(at: 1) == 0xBB, byte(at: 2) == 0xBF { position = 3 }
        skipWhitespace()
        try readObject(key: { try $0.readHeaderKey() }) { reader, key in
            try reader.readTopLevelValue(key: key, into: &command)
        }
        while let byte = current, byte == .space || byte == .tab || byte == .newline || byte == .carriageReturn
            || byte == 0
        {
            position += 1
        }
        guard current == nil else { throw malformed("trailing bytes after the header object") }
        return command
    }

    /// The top-level keys the header reader knows; the rest are skipped.
    enum HeaderKey {
        case code, version, opaque, flag, remark, language, extFields, other

        /// Matched as little-endian words of the key's bytes (the generic byte-by-byte compare of a slice
        /// against each candidate showed in send profiles: a header has eight keys).
        init(_ name: UnsafeRawBufferPointer) {
            let n = name.count
            guard n >= 4, n <= 9 else { self = .other; return }
            let word = Self.word(UnsafeRawBufferPointer(rebasing: name[0 ..< min(n, 8)]))
            switch (n, word) {
            case (4, 0x6564_6F63): self = .code  // "code"
            case (4, 0x6761_6C66): self = .flag  // "flag"
            case (6, 0x6575_7161_706F): self = .opaque  // "opaque"
            case (6, 0x6B72_616D_6572): self = .remark  // "remark"
            case (7, 0x6E_6F69_7372_6576): self = .version  // "version"
            case (8, 0x6567_6175_676E_616C): self = .language  // "language"
            case (9, 0x646C_6569_4674_7865) where name[8] == UInt8(ascii: "s"): self = .extFields  // "extField" "s"
            default: self = .other
            }
        }

        /// Up to 8 bytes as a little-endian word (the first byte lowest).
        private static func word(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            var word: UInt64 = 0
            for i in bytes.indices.reversed() { word = word << 8 | UInt64(bytes[i]) }
            return word
        }
    }

    /// A top-level key, matched on its bytes: no String per key (a header has eight).
    mutating func readHeaderKey() throws -> HeaderKey {
        if let plain = try readPlainString() { return HeaderKey(UnsafeRawBufferPointer(rebasing: plain)) }
        // Escapes in a key: decode it the general way.
        return Array(try readString().utf8).withUnsafeBytes { HeaderKey($0) }
    }

    /// An extFields key, interned when requests carry it all the time, with its signature.
    mutating func readExtFieldKey() throws -> (key: String, signature: UInt32) {
        guard let plain = try readPlainString() else {
            let key = try readString()
            return (key: key, signature: RemotingExtFields.signature(key))
        }
        let bytes = UnsafeRawBufferPointer(rebasing: plain)
        // Invalid UTF-8 has a high bit set, so the bytes' signature is the repaired String's (0) too.
        return RemotingExtFields.knownKey(bytes)
            ?? (key: String(decoding: bytes, as: UTF8.self), signature: RemotingExtFields.signature(bytes))
    }

    /// The content of a string token without escapes, `position` past it; nil with `position` unmoved when
    /// the token has an escape (the caller decodes it the general way).
    mutating func readPlainString() throws -> Slice<UnsafeRawBufferPointer>? {
        let open = position
        try expectByte(.quote, "'\"'")
        let start = position
        position = Self.plainWordsEnd(bytes, from: position, to: bytes.count)
        while let byte = byte(at: position), byte != .quote, byte != .backslash { position += 1 }
        guard byte(at: position) == .quote else {
            position = open
            return nil
        }
        position += 1
        return slice(start, position - 1)
    }

    private mutating func readTopLevelValue(key: HeaderKey, into command: inout RemotingCommand) throws {
        switch key {
        case .code: command.code = Int(try readInt32Field("code"))
        case .version: command.version = Int(try readInt32Field("version"))
        case .opaque: command.opaque = try readInt32Field("opaque")
        case .flag: command.flag = RemotingFlags(rawValue: try readInt32Field("flag"))
        case .remark: command.remark = try readValueText(depth: 2)
        case .language:
            // The name as sent ("JAVA") matched on its bytes: no String.
            if current == .quote, let plain = try readPlainString() {
                let bytes = UnsafeRawBufferPointer(rebasing: plain)
                command.language = LanguageCode(name: bytes) ?? Self.language(String(decoding: bytes, as: UTF8.self))
            } else {
                command.language = Self.language(try readValueText(depth: 2) ?? "")
            }
        case .extFields: command.extFields = try readExtFields()
        case .other: try skipValue(depth: 2)
        }
    }

    /// The language named `text`, or with `text` as its code, else `.other`.
    private static func language(_ text: String) -> LanguageCode {
        LanguageCode(name: text) ?? UInt8(text).flatMap { LanguageCode(rawValue: $0) } ?? .other
    }

    private mutating func readInt32Field(_ key: StaticString) throws -> Int32 {
        let start = position
        // Fast path: a plain JSON integer, parsed from the bytes (no String).
        if let value = readPlainInt32() { return value }
        guard let text = try readValueText(depth: 2), let value = Int64(text), let narrow = Int32(exactly: value)
        else {
            position = start
            throw malformed("\(key) is not a 32-bit integer")
        }
        return narrow
    }

    /// `-?[0-9]+` fitting an Int32 and followed by a byte that ends a number; otherwise nil with `position` unmoved.
    private mutating func readPlainInt32() -> Int32? {
        var i = position
        let negative = byte(at: i) == .minus
        if negative { i += 1 }
        var value: Int64 = 0
        let digitsStart = i
        while let byte = byte(at: i), byte >= .digit0, byte <= .digit9, i - digitsStart < 11 {
            value = value * 10 + Int64(byte - .digit0)
            i += 1
        }
        guard i > digitsStart else { return nil }
        if let next = byte(at: i), !(next == .comma || next == .closeBrace || next == .space || next == .tab
                                     || next == .newline || next == .carriageReturn) { return nil }
        guard let narrow = Int32(exactly: negative ? -value : value) else { return nil }
        position = i
        return narrow
    }

    private mutating func readExtFields() throws -> RemotingExtFields {
        var fields = source.map(RemotingExtFields.init(source:)) ?? RemotingExtFields()
        if readLiteralIfPresent("null") { return fields }
        recycler?.lend(to: &fields)
        // Room for a send header's fields up front: growing one by one reallocated the array four times.
        fields.reserveCapacity(16)
        var seen: UInt64 = 0
        try readObject(key: { try $0.readExtFieldKey() }) { reader, key in
            guard let value = try reader.readExtFieldValue() else { return }
            fields.setDecoded(value, for: key.key, signature: key.signature, seen: &seen)
            guard fields.count <= RemotingLimits.extFieldsCountMax else {
                throw reader.malformed("more than \(RemotingLimits.extFieldsCountMax) extFields")
            }
        }
        return fields
    }

    /// An extFields value: strings and integers as their place in `source` (no String until one is read),
    /// the rest as ``readValueText(depth:)`` renders it; nil for `null`.
    private mutating func readExtFieldValue() throws -> RemotingExtFields.StoredValue? {
        let start = position
        guard source != nil, let token = UInt32(exactly: start) else {
            return try readValueText(depth: 3).map(RemotingExtFields.StoredValue.text)
        }
        switch current ?? 0 {
        case .quote:
            let verbatim = try skipString()
            let end = UInt32(position)
            return verbatim ? .verbatim(start: token + 1, end: end - 1) : .jsonString(start: token, end: end)
        case .minus, .digit0 ... .digit9:
            if let text = try readNumberToken() { return .text(text) }
            return .verbatim(start: token, end: UInt32(position))
        default:
            return try readValueText(depth: 3).map(RemotingExtFields.StoredValue.text)
        }
    }

    /// Reads `{ "key": value, ... }`, calling `member` with the reader positioned at each value.
    private mutating func readObject(_ member: (inout JSONReader, String) throws -> Void) throws {
        try readObject(key: { try $0.readString() }, member)
    }

    /// Same, with each key read by `readKey`.
    private mutating func readObject<Key>(key readKey: (inout JSONReader) throws -> Key,
                                          _ member: (inout JSONReader, Key) throws -> Void) throws {
        try readContainer(open: .openBrace, close: .closeBrace) { reader in
            let key = try readKey(&reader)
            reader.skipWhitespace()
            try reader.expectByte(.colon, "':' after a key")
            reader.skipWhitespace()
            try member(&reader, key)
        }
    }

    /// Reads `open element, element, ... close` (possibly empty), calling `element` at the start of each one.
    private mutating func readContainer(
        open: UInt8,
        close: UInt8,
        _ element: (inout JSONReader) throws -> Void
    ) throws {
        try expectByte(open, "'\(Character(Unicode.Scalar(open)))'")
        skipWhitespace()
        if current == close {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            if current == .comma {
                position += 1
            } else if current == close {
                position += 1
                return
            } else {
                throw malformed("expected ',' or '\(Character(Unicode.Scalar(close)))'")
            }
        }
    }

    // MARK: Values

    /// A scalar as text: strings as decoded, numbers as decimal text, booleans as `true`/`false`, `null` as nil.
    /// Arrays and objects come back as their JSON text.
    private mutating func readValueText(depth: Int) throws -> String? {
        switch current ?? 0 {
        case .quote: return try readString()
        case .minus, .digit0 ... .digit9: return try readNumberText()
        case .openBrace, .openBracket:
            let start = position
            try skipValue(depth: depth)
            return String(decoding: slice(start, position), as: UTF8.self)
        default:
            if readLiteralIfPresent("true") { return "true" }
            if readLiteralIfPresent("false") { return "false" }
            if readLiteralIfPresent("null") { return nil }
            throw malformed(current == nil ? "value missing at end of header" : "unexpected byte at a value")
        }
    }

    private mutating func readLiteralIfPresent(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            (0 ..< count).allSatisfy { byte(at: position + $0) == expected[$0] }
        }
        if matches { position += count }
        return matches
    }

    /// Skips one value of any kind; containers nest at most ``RemotingLimits/jsonNestingDepthMax`` deep.
    private mutating func skipValue(depth: Int) throws {
        guard depth <= RemotingLimits.jsonNestingDepthMax else { throw malformed("nesting too deep") }
        switch current {
        case .openBrace:
            try readObject { reader, _ in try reader.skipValue(depth: depth + 1) }
        case .openBracket:
            try readContainer(open: .openBracket, close: .closeBracket) { reader in
                try reader.skipValue(depth: depth + 1)
            }
        case .quote: _ = try skipString()  // no String for a skipped value
        default:
            _ = try readValueText(depth: depth)
        }
    }
}

extension UInt8 {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let digit0 = UInt8(ascii: "0")
    static let digit9 = UInt8(ascii: "9")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
}
