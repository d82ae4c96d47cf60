import Foundation

/// A `whiteRemoteAddress` / `globalWhiteRemoteAddresses` entry, parsed as RocketMQ's
/// `RemoteAddressStrategyFactory` accepts it:
///
/// | spelling                                   | pattern     | matches                                   |
/// |--------------------------------------------|-------------|-------------------------------------------|
/// | empty                                      | `.none`     | nothing                                   |
/// | `*`, `*.*.*.*`, `*:*:*:*:*:*:*:*`          | `.any`      | every address                             |
/// | `192.168.1.{1,2}`, `2001:db8::{a,b}`       | `.set`      | the listed last parts                     |
/// | `192.168.1.1,192.168.1.2`                  | `.set`      | the listed addresses                      |
/// | `192.168.1.*`, `192.168.1-5.*`, `10.*.*.*` | `.range`    | the first `*` or `a-b` part in its range  |
/// | `192.168.1.1`, `::1`                       | `.set`      | that address                              |
///
/// IPv6 addresses are compared expanded (`0000:…:0001`, upper case), as Java's `AclUtils.expandIP` does.
/// A spelling Java refuses throws, naming the entry.
public enum RemoteAddressPattern: Sendable, Equatable {
    case none
    case any
    /// Exact addresses (IPv4 as written, IPv6 expanded).
    case set(Set<String>)
    /// Addresses starting with `head` whose part number `index` (0-based, after `head`) is in `bounds`.
    case range(head: String, index: Int, bounds: ClosedRange<Int>, ipv6: Bool)

    public init(parsing raw: String) throws(AclConfigError) {
        let text = trimmed(raw)
        if text.isEmpty { self = .none; return }
        if text == "*" || text == "*.*.*.*" || text == "*:*:*:*:*:*:*:*" { self = .any; return }
        let bad = AclConfigError.badAddress(raw)
        if text.hasSuffix("}") {
            guard let open = text.firstIndex(of: "{") else { throw bad }
            let separator: Character = text.contains(":") ? ":" : "."
            let parts = text.split(separator: separator)
            guard parts.last?.hasPrefix("{") == true, separator == ":" || parts.count >= 4 else { throw bad }
            let head = String(text[..<open])
            let tails = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ",")
            self = .set(try Self.addresses(tails.map { head + String($0) }, raw))
        } else if text.contains(",") {
            self = .set(try Self.addresses(text.split(separator: ",").map(String.init), raw))
        } else if text.contains("*") || text.contains("-") {
            self = text.contains(":") ? try Self.ipv6Range(text, raw) : try Self.ipv4Range(text, raw)
        } else {
            self = .set(try Self.addresses([text], raw))
        }
    }

    /// True when `ip` (an address without port) matches.
    public func matches(_ ip: String) -> Bool {
        switch self {
        case .none: return false
        case .any: return true
        case .set(let addresses):
            return addresses.contains(IPAddressText.isIPv6(ip) ? IPAddressText.expand(ip) : ip)
        case .range(let head, let index, let bounds, let ipv6):
            if ipv6 {
                guard IPAddressText.isIPv6(ip) else { return false }
                let parts = IPAddressText.expand(ip).split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 8, index < 8, parts.prefix(index).joined(separator: ":") == head,
                      let value = Int(parts[index], radix: 16) else { return false }
                return bounds.contains(value)
            }
            guard IPAddressText.isIPv4(ip) else { return false }
            let parts = ip.split(separator: ".")
            guard parts.prefix(index).joined(separator: ".") == head, let value = Int(parts[index]) else { return false }
            return bounds.contains(value)
        }
    }

    private static func addresses(_ list: [String], _ raw: String) throws(AclConfigError) -> Set<String> {
        var set = Set<String>()
        for entry in list {
            let address = trimmed(entry)
            if IPAddressText.isIPv4(address) {
                set.insert(address)
            } else if IPAddressText.isIPv6(address) {
                set.insert(IPAddressText.expand(address))
            } else {
                throw .badAddress(raw)
            }
        }
        return set
    }

    /// `a.b.c.*`, `a.b.*.*`, `a.*.*.*`, `a.b.c.x-y`, `a.b.x-y.*`: the first of parts 1...3 that is `*` or a range.
    private static func ipv4Range(_ text: String, _ raw: String) throws(AclConfigError) -> RemoteAddressPattern {
        let parts = text.split(separator: ".").map { trimmed(String($0)) }
        guard parts.count == 4 else { throw .badAddress(raw) }
        for index in 1...3 {
            guard let bounds = try bounds(parts[index], max: 255, radix: 10, raw) else { continue }
            for part in parts.prefix(index) {
                guard let value = Int(part), (0...255).contains(value) else { throw .badAddress(raw) }
            }
            return .range(head: parts.prefix(index).joined(separator: "."), index: index, bounds: bounds, ipv6: false)
        }
        throw .badAddress(raw)
    }

    /// `*` only as the last part; a range only in the last part, or the one before a final `*`.
    private static func ipv6Range(_ text: String, _ raw: String) throws(AclConfigError) -> RemoteAddressPattern {
        if let star = text.firstIndex(of: "*"), text.index(after: star) != text.endIndex { throw .badAddress(raw) }
        // Expand the fixed prefix: every part before the first `*` or range.
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let index = parts.firstIndex(where: { $0 == "*" || $0.contains("-") }), index > 0,
              let bounds = try bounds(parts[index], max: 0xFFFF, radix: 16, raw) else { throw .badAddress(raw) }
        for rest in parts[(index + 1)...] where rest != "*" { throw .badAddress(raw) }
        let prefix = parts.prefix(index).joined(separator: ":")
        let expanded = IPAddressText.expand(prefix, parts: index)
        let headParts = expanded.split(separator: ":", omittingEmptySubsequences: false)
        guard headParts.count == index, headParts.allSatisfy({ Int($0, radix: 16) != nil }) else {
            throw .badAddress(raw)
        }
        return .range(head: expanded, index: index, bounds: bounds, ipv6: true)
    }

    /// `*` → the whole range, `a-b` → a...b (a ≤ b, both in range, no leading `-`); nil for a fixed part.
    private static func bounds(_ part: String, max: Int, radix: Int, _ raw: String) throws(AclConfigError)
        -> ClosedRange<Int>?
    {
        if part == "*" { return 0...max }
        guard part.contains("-") else { return nil }
        let ends = part.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let start = Int(ends[0], radix: radix), let end = Int(ends[1], radix: radix),
              0 <= start, start <= end, end <= max else { throw .badAddress(raw) }
        return start...end
    }
}

/// Address text checks and IPv6 expansion as Java's ACL compares addresses.
enum IPAddressText {
    /// Four decimal parts 0...255 without leading zeros (commons-validator's rule).
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), let value = Int(part) else { return false }
            return value <= 255 && (part.count == 1 || part.first != "0")
        }
    }

    /// Hex groups of at most 4 digits; 8 of them, or fewer with one `::`.
    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 39 else { return false }
        let compressions = text.components(separatedBy: "::").count - 1
        guard compressions <= 1 else { return false }
        let groups = text.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.allSatisfy({ (1...4).contains($0.count) && Int($0, radix: 16) != nil }) else { return false }
        if compressions == 0 {
            return groups.count == 8 && !text.hasPrefix(":") && !text.hasSuffix(":")
        }
        return groups.count < 8
    }

    /// `text` upper-cased, `::` widened to `parts` groups, each group padded to 4 digits (Java's `expandIP`).
    static func expand(_ text: String, parts: Int = 8) -> String {
        var address = text.uppercased()
        let colons = address.count(where: { $0 == ":" })
        if parts - colons > 0 {
            address = address.replacingOccurrences(of: "::", with: String(repeating: ":", count: parts - colons + 1))
        }
        return address.split(separator: ":", omittingEmptySubsequences: false)
            .map { String(repeating: "0", count: max(0, 4 - $0.count)) + $0 }
            .joined(separator: ":")
    }
}
