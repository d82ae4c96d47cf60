/// The `extFields` of a command: a string-to-string map that keeps insertion order.
///
/// Storage is an array of pairs with linear lookup: headers carry about 15 fields, for which a scan beats
/// hashing, and the order makes encoded output deterministic. Decoders cap the count
/// (``RemotingLimits/extFieldsCountMax``) so a hostile header cannot make insertion quadratic in a large number.
///
/// Invariant: keys are unique. Setting an existing key replaces its value in place; setting `nil` removes it.
/// Equality ignores order, as for a map.
///
/// Values are strings on the wire we write. On input, numbers and booleans have already been rendered as text
/// by the header decoder; the typed accessors parse that text.
public struct RemotingExtFields: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    public typealias Element = (key: String, value: String)

    private var entries: [Element]

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

    public func makeIterator() -> IndexingIterator<[Element]> { entries.makeIterator() }

    public mutating func reserveCapacity(_ minimumCapacity: Int) { entries.reserveCapacity(minimumCapacity) }

    /// The value for `key`; assigning `nil` removes the field.
    public subscript(key: String) -> String? {
        get {
            guard let index = index(of: key) else { return nil }
            return entries[index].value
        }
        set {
            let existing = index(of: key)
            switch (existing, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil): entries.remove(at: index)
            case (nil, let value?): entries.append((key, value))
            case (nil, nil): break
            }
        }
    }

    private func index(of key: String) -> Int? {
        entries.firstIndex(where: { $0.key == key })
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
        return Int64(trimmingSpaces(text))
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
