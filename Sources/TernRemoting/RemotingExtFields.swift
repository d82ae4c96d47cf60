import NIOCore

/// The `extFields` of a command: a string-to-string map that keeps insertion order.
///
/// Storage is one array of entries with linear lookup: headers carry about 15 fields, for which a scan beats
/// hashing, and the order makes encoded output deterministic. Each entry keeps its key's signature (length and
/// first/last bytes), so the scan compares integers and runs a string comparison only on a signature match
/// (string `==` on unequal strings took a slow path that showed in send-path profiles). One array, not two:
/// every request and response builds a table, and each array is a heap allocation. Decoders cap the count
/// (``RemotingLimits/extFieldsCountMax``) so a hostile header cannot make insertion quadratic in a large number.
///
/// Decoded values stay in the header: the JSON decoder records where each string or integer value lies in the
/// request's header bytes (`source`, a view of the receive buffer, no copy) and a `String` is built only when a
/// value is read as one. A send header has a dozen values of which the broker reads a few, and every value
/// longer than 15 UTF-8 bytes was a heap allocation. ``utf8(_:)``, ``value(_:equalsUTF8:)``, ``int64(_:)`` and
/// ``bool(_:)`` read such values without a `String`.
///
/// Invariant: keys are unique. Setting an existing key replaces its value in place; setting `nil` removes it.
/// Equality ignores order, as for a map. Token offsets lie within `source`'s readable bytes, which never change
/// (a `ByteBuffer` is a value: the decoder's copy cannot be written through).
///
/// Values are strings on the wire we write. On input, numbers and booleans have already been rendered as text
/// by the header decoder; the typed accessors parse that text.
public struct RemotingExtFields: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    public typealias Element = (key: String, value: String)

    /// A value as stored.
    enum StoredValue: Sendable {
        case text(String)
        /// `source`'s readable bytes `start ..< end` are the value's UTF-8 as is: an ASCII JSON string's
        /// content without escapes, or an integer as written.
        case verbatim(start: UInt32, end: UInt32)
        /// `source`'s readable bytes `start ..< end` are a JSON string token, quotes included, with escapes or
        /// non-ASCII bytes: decoded by the JSON reader when read.
        case jsonString(start: UInt32, end: UInt32)
        /// The signed decimal of inline word `slot` (``Template``).
        case decimal(slot: UInt8)
        /// Inline words `slot` and `slot + 1` as 32 uppercase hex digits (``Template``).
        case hex128(slot: UInt8)
        /// ``hex128(slot:)`` between two fixed texts (``Template``).
        case framedHex128(slot: UInt8, Template.Affixes)
    }

    /// What token and template values refer to.
    enum Backing: Sendable {
        case none
        /// The header bytes that `.verbatim` and `.jsonString` values lie in.
        case header(ByteBuffer)
        /// The integers `.decimal` and `.hex128` values render, and the template's pre-rendered JSON while the
        /// entries are still exactly the template's (nil once any field is set or removed).
        case words(Template.JSONForm?, UInt64, UInt64, UInt64, UInt64)
    }

    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var key: String
        var value: StoredValue
        /// `signature(key)`; keys that are `==` have equal signatures or one is 0.
        @usableFromInline var signature: UInt32
    }

    // Usable from inlinable accessors: a signature check reads a key's signature per field, and a call into this
    // module for each one showed in its profile.
    @usableFromInline private(set) var entries: [Entry]
    private(set) var backing: Backing

    public init() {
        entries = []
        backing = .none
    }

    /// Fields whose token values lie in `source` (the JSON decoder's form).
    init(source: ByteBuffer) {
        entries = []
        backing = .header(source)
    }

    /// A table's entry array, kept by an ``ExtFieldsRecycler`` between two requests.
    struct Table {
        fileprivate var entries: [Entry]
    }

    /// This table's entries, for an ``ExtFieldsRecycler``.
    var table: Table { Table(entries: entries) }

    /// Fills these (empty) fields from now on into `spare`'s array, emptied with its capacity kept: no
    /// allocation when nothing else still holds that array. `spare` is left nil.
    mutating func adopt(_ spare: inout Table?) {
        guard var t = spare else { return }
        spare = nil
        entriesChanged()
        swap(&entries, &t.entries)
        entries.removeAll(keepingCapacity: true)
    }

    /// These fields (the table shared, not copied) with `words` for their template values; `json`: the
    /// template's pre-rendered JSON form of exactly these entries.
    func withWords(_ json: Template.JSONForm?, _ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) -> RemotingExtFields {
        var fields = self
        fields.backing = .words(json, w0, w1, w2, w3)
        return fields
    }

    /// The template's JSON form and the words to complete it with, when the entries are still exactly the
    /// template's.
    var jsonForm: (form: Template.JSONForm, words: (UInt64, UInt64, UInt64, UInt64))? {
        guard case let .words(form?, w0, w1, w2, w3) = backing else { return nil }
        return (form, (w0, w1, w2, w3))
    }

    /// Drops the template's JSON form: the entries no longer are the template's.
    private mutating func entriesChanged() {
        if case let .words(form, w0, w1, w2, w3) = backing, form != nil { backing = .words(nil, w0, w1, w2, w3) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        entries = []
        backing = .none
        entries.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    /// Number of fields.
    @inlinable public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    public struct Iterator: IteratorProtocol {
        fileprivate let fields: RemotingExtFields
        fileprivate var index = 0
        public mutating func next() -> Element? {
            guard index < fields.entries.count else { return nil }
            defer { index += 1 }
            let entry = fields.entries[index]
            return (entry.key, fields.string(entry.value))
        }
    }

    public func makeIterator() -> Iterator { Iterator(fields: self) }

    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        entries.reserveCapacity(minimumCapacity)
    }

    /// The value for `key`; assigning `nil` removes the field.
    public subscript(key: String) -> String? {
        get {
            guard let index = index(of: key) else { return nil }
            return string(entries[index].value)
        }
        set {
            if let newValue { set(.text(newValue), for: key) } else { remove(key) }
        }
    }

    /// Sets `key` to `value`, replacing an existing value in place.
    mutating func set(_ value: StoredValue, for key: String) {
        set(value, for: key, signature: Self.signature(key))
    }

    /// ``set(_:for:)`` with `key`'s signature already known (an interned key).
    mutating func set(_ value: StoredValue, for key: String, signature: UInt32) {
        entriesChanged()
        if let index = index(of: key, signature: signature) {
            entries[index].value = value
        } else {
            entries.append(Entry(key: key, value: value, signature: signature))
        }
    }

    /// ``set(_:for:signature:)`` for a decoder filling the table key by key. `seen` (0 before the first key):
    /// one bit per signature hash of the keys set so far, all bits once a key had signature 0 (such a key may
    /// equal keys of any signature). A key whose bit is clear is new, appended without the duplicate scan, which
    /// made a send header's fourteen inserts quadratic.
    mutating func setDecoded(_ value: StoredValue, for key: String, signature: UInt32, seen: inout UInt64) {
        let bit: UInt64 = signature == 0 ? .max : 1 << UInt64((signature &* 0x9E37_79B1) >> 26)
        defer { seen |= bit }
        guard signature != 0, seen & bit == 0 else { return set(value, for: key, signature: signature) }
        entriesChanged()
        entries.append(Entry(key: key, value: value, signature: signature))
    }

    private mutating func remove(_ key: String) {
        entriesChanged()
        if let index = index(of: key) { entries.remove(at: index) }
    }

    /// The position of `key` (insertion order), nil when absent.
    public func index(of key: String) -> Int? { index(of: key, signature: Self.signature(key)) }

    func index(of key: String, signature: UInt32) -> Int? {
        var i = 0
        for e in entries {
            if e.signature == signature || e.signature == 0 || signature == 0, e.key == key { return i }
            i += 1
        }
        return nil
    }


    /// `value` as a String (built here for token and template values).
    private func string(_ value: StoredValue) -> String {
        switch value {
        case let .text(text): return text
        case .verbatim: return withVerbatimBytes(value) { String(decoding: $0, as: UTF8.self) }!
        case let .jsonString(start, end):
            return decodedToken(start, end) { reader in try reader.readString() } ?? ""
        case let .decimal(slot): return String(Int64(bitPattern: word(slot)))
        case let .hex128(slot): return Self.hex128(word(slot), word(slot + 1))
        case let .framedHex128(slot, affixes): return affixes.prefix + Self.hex128(word(slot), word(slot + 1)) + affixes.suffix
        }
    }

    /// Inline word `slot` (template values only).
    private func word(_ slot: UInt8) -> UInt64 {
        guard case let .words(_, w0, w1, w2, w3) = backing else { preconditionFailure("template value without words") }
        switch slot {
        case 0: return w0
        case 1: return w1
        case 2: return w2
        default: return w3
        }
    }

    /// The header bytes token values lie in.
    private var source: ByteBuffer {
        guard case let .header(source) = backing else { preconditionFailure("token value without its header") }
        return source
    }

    /// Runs `read` with a JSON reader positioned at the token `start ..< end` of `source`. The token parsed
    /// when the header was decoded, so reading it again cannot fail.
    private func decodedToken<T>(_ start: UInt32, _ end: UInt32, _ read: (inout JSONReader) throws -> T) -> T? {
        source.withUnsafeReadableBytes { bytes in
            var reader = JSONReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[Int(start) ..< Int(end)]))
            return try? read(&reader)
        }
    }

    /// `body` with the verbatim bytes of `value`; nil for other values. Raw bytes, not a `ByteBufferView`:
    /// the generic view walks allocated per byte where they were not specialized (debug builds).
    private func withVerbatimBytes<R>(_ value: StoredValue, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard case let .verbatim(start, end) = value else { return nil }
        return source.withUnsafeReadableBytes { body(UnsafeRawBufferPointer(rebasing: $0[Int(start) ..< Int(end)])) }
    }

    /// True when `bytes` are `other`'s bytes.
    @inlinable
    static func equal(_ bytes: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == other.count else { return false }
        for i in 0 ..< bytes.count where bytes[i] != other[i] { return false }
        return true
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { equal(bytes, UnsafeRawBufferPointer($0)) }
    }

    /// A value as the encoder writes it: integers without a String.
    enum Rendered {
        case string(String)
        case decimal(Int64)
        case hex128(UInt64, UInt64)
    }

    /// Calls `body` with every field in order.
    func forEachRendered(_ body: (String, Rendered) -> Void) {
        for entry in entries {
            switch entry.value {
            case let .decimal(slot): body(entry.key, .decimal(Int64(bitPattern: word(slot))))
            case let .hex128(slot): body(entry.key, .hex128(word(slot), word(slot + 1)))
            default: body(entry.key, .string(string(entry.value)))
            }
        }
    }

    /// The UTF-8 of the value for `key` in a new array (the one allocation when the caller needs the bytes
    /// anyway, instead of a String and then an array), or nil when absent.
    public func utf8(_ key: String) -> [UInt8]? {
        index(of: key).map(utf8(at:))
    }

    /// ``utf8(_:)`` of field `index` (``locate(_:)``).
    public func utf8(at index: Int) -> [UInt8] {
        var utf8: [UInt8] = []
        appendUTF8(at: index, to: &utf8)
        return utf8
    }

    /// Appends the UTF-8 of field `index`'s value to `bytes`: no allocation when `bytes` is uniquely
    /// referenced with room for it (a recycled array).
    public func appendUTF8(at index: Int, to bytes: inout [UInt8]) {
        // One allocation at most: a token never decodes longer than it is written (U+FFFD repairs of invalid
        // bytes excepted, which may grow it).
        switch entries[index].value {
        case let .verbatim(start, end), let .jsonString(start, end): bytes.reserveCapacity(bytes.count + Int(end - start))
        default: break
        }
        forEachUTF8Run(ofValueAt: index) { bytes.append(contentsOf: $0) }
    }

    /// The key of field `index` (insertion order, `0 ..< count`).
    @inlinable public func key(at index: Int) -> String { entries[index].key }

    /// The value of field `index` (insertion order, `0 ..< count`) as text.
    public func string(at index: Int) -> String { string(entries[index].value) }

    /// Calls `body` with the UTF-8 of field `index`'s value, in order, in one or more pieces, allocating nothing
    /// for values read from a header: a verbatim value is its bytes in the header; an escaped one is passed as
    /// the stretches between its escapes, straight from the header, and each escape's decoded bytes; a stored
    /// String is its own storage. The bytes are those of the value read as a `String` (invalid UTF-8 in an
    /// escaped value comes out as U+FFFD, as through `String(decoding:)`). The one way values are read as bytes.
    public func forEachUTF8Run(ofValueAt index: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        let value = entries[index].value
        switch value {
        case .verbatim: _ = withVerbatimBytes(value, body)
        case let .jsonString(start, end):
            source.withUnsafeReadableBytes { bytes in
                Self.forEachUTF8Run(ofToken: UnsafeRawBufferPointer(rebasing: bytes[Int(start) ..< Int(end)]), body)
            }
        case .text, .decimal, .hex128, .framedHex128:
            var text = string(value)
            text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// ``forEachUTF8Run(ofValueAt:_:)`` for the value of `key`; false (and no call) when `key` is absent.
    @discardableResult
    public func forEachUTF8Run(ofValueFor key: String, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard let index = index(of: key) else { return false }
        forEachUTF8Run(ofValueAt: index, body)
        return true
    }

    /// `body` with `bytes`, invalid UTF-8 sequences replaced by U+FFFD as `String(decoding:as:)` replaces them
    /// (ASCII and valid UTF-8 pass through untouched; repairs go through a stack buffer).
    static func repairingUTF8(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        if high < 0x80 { return body(bytes) }
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { out in
            var used = 0
            _ = transcode(bytes.makeIterator(), from: UTF8.self, to: UTF8.self, stoppingOnError: false) { unit in
                if used == out.count {
                    body(UnsafeRawBufferPointer(out))
                    used = 0
                }
                out[used] = unit
                used += 1
            }
            body(UnsafeRawBufferPointer(rebasing: out[0 ..< used]))
        }
    }

    /// True when `key` is present and its value's UTF-8 is `utf8`; no String is built for a token value.
    public func value(_ key: String, equalsUTF8 utf8: [UInt8]) -> Bool {
        guard let index = index(of: key) else { return false }
        return value(at: index, equalsUTF8: utf8)
    }

    /// ``value(_:equalsUTF8:)`` of field `index` (``locate(_:)``).
    public func value(at index: Int, equalsUTF8 utf8: [UInt8]) -> Bool {
        utf8.withUnsafeBytes { expected in
            var matched = 0, equal = true
            forEachUTF8Run(ofValueAt: index) { run in
                let end = matched + run.count
                equal = equal && end <= expected.count
                    && Self.equal(run, UnsafeRawBufferPointer(rebasing: expected[matched ..< end]))
                matched = end
            }
            return equal && matched == expected.count
        }
    }

    /// UTF-8 length (low 16 bits, saturated) and first and last bytes of an ASCII key. 0 (matches every
    /// signature) for empty and non-ASCII keys: String `==` is canonical equivalence, under which a non-ASCII
    /// key can equal one of another length (U+212A KELVIN SIGN == "K").
    static func signature(_ key: String) -> UInt32 {
        // One pass over contiguous bytes (native strings, small ones included); the generic UTF8View walks
        // (`allSatisfy`, `last`, `count`) showed in send-path profiles.
        key.utf8.withContiguousStorageIfAvailable(signature) ?? signature(Array(key.utf8))
    }

    static func signature(_ utf8: some Collection<UInt8>) -> UInt32 {
        guard let first = utf8.first else { return 0 }
        var last = first, high: UInt8 = 0, count = 0
        for byte in utf8 { high |= byte; last = byte; count += 1 }
        guard high < 0x80 else { return 0 }
        return UInt32(Swift.min(count, 0xFFFF)) | UInt32(first) << 16 | UInt32(last) << 24
    }

    public static func == (lhs: RemotingExtFields, rhs: RemotingExtFields) -> Bool {
        guard lhs.count == rhs.count else { return false }
        // Keys are unique on both sides, so equal counts plus every lhs pair found in rhs means equal maps.
        return lhs.allSatisfy { rhs[$0.key] == $0.value }
    }
}

// MARK: - Typed access

extension RemotingExtFields {
    /// The value for `key` as text (same as the subscript; reads better next to the typed accessors).
    public func string(_ key: String) -> String? { self[key] }

    /// The value for `key` parsed as a decimal integer, or `nil` when absent or not an integer.
    ///
    /// C++ sends some integers as JSON numbers and others as strings; both arrive here as decimal text.
    /// Surrounding spaces are tolerated.
    public func int64(_ key: String) -> Int64? {
        index(of: key).flatMap(int64(at:))
    }

    /// ``int64(_:)`` of field `index` (``locate(_:)``).
    public func int64(at index: Int) -> Int64? {
        let value = entries[index].value
        // Fast path: plain digits (every client sends them), parsed from the header bytes.
        if let parsed = withVerbatimBytes(value, Self.decimal) ?? nil { return parsed }
        let text = string(value)
        // The Character-based trim is slow: only when the plain parse fails.
        return Int64(text) ?? Int64(trimmingSpaces(text))
    }

    /// `[+-]?[0-9]+` within Int64, as `Int64(String)` accepts it; nil otherwise.
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let first = bytes.first else { return nil }
        let negative = first == UInt8(ascii: "-")
        let digitsStart = negative || first == UInt8(ascii: "+") ? 1 : 0
        guard digitsStart < bytes.count else { return nil }
        var value: Int64 = 0
        for i in digitsStart ..< bytes.count {
            let byte = bytes[i]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    /// The value for `key` as an `Int32`, or `nil` when absent, not an integer, or out of range.
    public func int32(_ key: String) -> Int32? {
        int64(key).flatMap { Int32(exactly: $0) }
    }

    /// The value for `key` as a `Bool`: `true`/`false` (any case, as Java's `parseBoolean`) or `1`/`0`.
    ///
    /// C++ 1.2.3 sends `"1"`/`"0"`; Java and C++ 2.x send `"true"`/`"false"`. Anything else is `nil`, so
    /// callers choose the default explicitly.
    public func bool(_ key: String) -> Bool? {
        index(of: key).flatMap(bool(at:))
    }

    /// ``bool(_:)`` of field `index` (``locate(_:)``).
    public func bool(at index: Int) -> Bool? {
        let value = entries[index].value
        // Fast path for the exact spellings clients send.
        let spelled: Bool?? = withVerbatimBytes(value) { bytes in
            if Self.equal(bytes, "true") || Self.equal(bytes, "1") { return true }
            if Self.equal(bytes, "false") || Self.equal(bytes, "0") { return false }
            return nil
        }
        if let known = spelled ?? nil { return known }
        let text = string(value)
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: break
        }
        switch trimmingSpaces(text).lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: return nil
        }
    }

    /// Sets `key` to the decimal text of `value`.
    public mutating func set(_ key: String, _ value: some BinaryInteger) {
        self[key] = String(value)
    }

    /// Sets `key` to `"true"` or `"false"`.
    public mutating func set(_ key: String, _ value: Bool) {
        self[key] = value ? "true" : "false"
    }

    private func trimmingSpaces(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = text.lastIndex(where: { !isSpace($0) })!
        return text[first...last]
    }
}

extension RemotingExtFields: CustomStringConvertible {
    public var description: String {
        "[" + map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
