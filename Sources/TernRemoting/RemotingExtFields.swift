/// The `extFields` of a command: a string-to-string map that keeps insertion order.
///
/// Storage is one array of entries with linear lookup: headers carry about 15 fields, for which a scan beats
/// hashing, and the order makes encoded output deterministic. Each entry keeps its key's signature (length and
/// first/last bytes), so the scan compares integers and runs a string comparison only on a signature match
/// (string `==` on unequal strings took a slow path that showed in send-path profiles). One array, not two:
/// every request and response builds a table, and each array is a heap allocation. Decoders cap the count
/// (``RemotingLimits/extFieldsCountMax``) so a hostile header cannot make insertion quadratic in a large number.
///
/// Invariant: keys are unique. Setting an existing key replaces its value in place; setting `nil` removes it.
/// Equality ignores order, as for a map.
///
/// Values are strings on the wire we write. On input, numbers and booleans have already been rendered as text
/// by the header decoder; the typed accessors parse that text.
public struct RemotingExtFields: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    public typealias Element = (key: String, value: String)

    fileprivate struct Entry: Sendable {
        var key: String
        var value: String
        /// `signature(key)`; keys that are `==` have equal signatures or one is 0.
        var signature: UInt32
    }

    private var entries: [Entry]

    public init() { entries = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        entries = []
        entries.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    /// Number of fields.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    public struct Iterator: IteratorProtocol {
        fileprivate var base: IndexingIterator<[Entry]>
        public mutating func next() -> Element? { base.next().map { ($0.key, $0.value) } }
    }

    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }

    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        entries.reserveCapacity(minimumCapacity)
    }

    /// The value for `key`; assigning `nil` removes the field.
    public subscript(key: String) -> String? {
        get {
            guard let index = index(of: key) else { return nil }
            return entries[index].value
        }
        set {
            let signature = Self.signature(key)
            let existing = index(of: key, signature: signature)
            switch (existing, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil):
                entries.remove(at: index)
            case (nil, let value?):
                entries.append(Entry(key: key, value: value, signature: signature))
            case (nil, nil): break
            }
        }
    }

    private func index(of key: String) -> Int? { index(of: key, signature: Self.signature(key)) }

    private func index(of key: String, signature: UInt32) -> Int? {
        var i = 0
        for e in entries {
            if e.signature == signature || e.signature == 0 || signature == 0, e.key == key { return i }
            i += 1
        }
        return nil
    }

    /// UTF-8 length (low 16 bits, saturated) and first and last bytes of an ASCII key. 0 (matches every
    /// signature) for empty and non-ASCII keys: String `==` is canonical equivalence, under which a non-ASCII
    /// key can equal one of another length (U+212A KELVIN SIGN == "K").
    private static func signature(_ key: String) -> UInt32 {
        // One pass over contiguous bytes (native strings, small ones included); the generic UTF8View walks
        // (`allSatisfy`, `last`, `count`) showed in send-path profiles.
        key.utf8.withContiguousStorageIfAvailable(signature) ?? signature(Array(key.utf8))
    }

    private static func signature(_ utf8: some Collection<UInt8>) -> UInt32 {
        guard let first = utf8.first else { return 0 }
        var last = first, high: UInt8 = 0, count = 0
        for byte in utf8 { high |= byte; last = byte; count += 1 }
        guard high < 0x80 else { return 0 }
        return UInt32(Swift.min(count, 0xFFFF)) | UInt32(first) << 16 | UInt32(last) << 24
    }

    public static func == (lhs: RemotingExtFields, rhs: RemotingExtFields) -> Bool {
        guard lhs.count == rhs.count else { return false }
        // Keys are unique on both sides, so equal counts plus every lhs pair found in rhs means equal maps.
        return lhs.entries.allSatisfy { rhs[$0.key] == $0.value }
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
        guard let text = self[key] else { return nil }
        // Fast path: plain digits (every client sends them); the Character-based trim is slow.
        return Int64(text) ?? Int64(trimmingSpaces(text))
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
        guard let text = self[key] else { return nil }
        switch text {  // fast path for the exact spellings clients send
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
        "[" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
