/// A permission on a topic or group as RocketMQ's plain ACL spells it: `DENY`, `PUB`, `SUB`, `PUB|SUB` (or
/// `SUB|PUB`). Bits as Java's `Permission`: DENY 1, ANY 2, PUB 4, SUB 8.
///
/// Anything else in a file (a typo, an empty value) parses as `DENY`, as Java does: a misspelt grant never
/// opens a resource.
public struct AclPermission: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    // Computed and inlinable, not stored: another module read a stored one through its lazy-init accessor.
    @inlinable public static var deny: AclPermission { AclPermission(rawValue: 1) }
    /// Needed by requests that accept either PUB or SUB.
    @inlinable public static var any: AclPermission { AclPermission(rawValue: 2) }
    @inlinable public static var pub: AclPermission { AclPermission(rawValue: 4) }
    @inlinable public static var sub: AclPermission { AclPermission(rawValue: 8) }

    /// `text` as a file spells it, surrounding blanks ignored; unknown text is `DENY`.
    public init(parsing text: String?) {
        switch text.map(trimmed) ?? "" {
        case "PUB": self = .pub
        case "SUB": self = .sub
        case "PUB|SUB", "SUB|PUB": self = [.pub, .sub]
        default: self = .deny
        }
    }

    /// True when an owner of `self` may do what needs `needed`: DENY refuses everything, ANY needs PUB or SUB,
    /// otherwise one needed bit must be owned.
    public func allows(_ needed: AclPermission) -> Bool {
        if contains(.deny) { return false }
        if needed.contains(.any) { return !isDisjoint(with: [.pub, .sub]) }
        return !isDisjoint(with: needed)
    }

    public var description: String {
        if contains(.deny) { return "DENY" }
        switch (contains(.pub), contains(.sub)) {
        case (true, true): return "PUB|SUB"
        case (true, false): return "PUB"
        case (false, true): return "SUB"
        case (false, false): return contains(.any) ? "ANY" : "NONE"
        }
    }
}

/// `text` without leading and trailing spaces, tabs and line breaks.
func trimmed(_ text: String) -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard let first = text.firstIndex(where: { !isBlank($0) }) else { return "" }
    let last = text.lastIndex(where: { !isBlank($0) })!
    return String(text[first...last])
}
