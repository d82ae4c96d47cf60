import Yams

/// One account of `plain_acl.yml`.
///
/// A class: every signed request reads its account's key, white address and permissions, and reading those
/// through a struct held by the account index copied the whole account (about ten reference counts).
public final class AclAccount: Sendable, Equatable {
    public let accessKey: String
    public let signingKey: AclSigningKey
    public var secretKey: String { signingKey.secret }
    /// Requests from these addresses need neither a signature nor permissions (Java skips both).
    public let whiteRemoteAddress: RemoteAddressPattern
    public let isAdmin: Bool
    /// For topics (and groups) not listed; `DENY` when the file says nothing.
    public let defaultTopicPermission: AclPermission
    public let defaultGroupPermission: AclPermission
    /// Topic names, and groups as their retry topics (`%RETRY%group`), to their permission.
    public let resourcePermissions: [String: AclPermission]
    /// `whiteRemoteAddress != .none`, kept: reading the pattern to test it copied it per request.
    let hasWhiteRemoteAddress: Bool

    public init(accessKey: String, signingKey: AclSigningKey, whiteRemoteAddress: RemoteAddressPattern, isAdmin: Bool,
                defaultTopicPermission: AclPermission, defaultGroupPermission: AclPermission,
                resourcePermissions: [String: AclPermission]) {
        self.accessKey = accessKey
        self.signingKey = signingKey
        self.whiteRemoteAddress = whiteRemoteAddress
        self.isAdmin = isAdmin
        self.defaultTopicPermission = defaultTopicPermission
        self.defaultGroupPermission = defaultGroupPermission
        self.resourcePermissions = resourcePermissions
        if case .none = whiteRemoteAddress { hasWhiteRemoteAddress = false } else { hasWhiteRemoteAddress = true }
    }

    public static func == (lhs: AclAccount, rhs: AclAccount) -> Bool {
        lhs.accessKey == rhs.accessKey && lhs.signingKey == rhs.signingKey
            && lhs.whiteRemoteAddress == rhs.whiteRemoteAddress && lhs.isAdmin == rhs.isAdmin
            && lhs.defaultTopicPermission == rhs.defaultTopicPermission
            && lhs.defaultGroupPermission == rhs.defaultGroupPermission
            && lhs.resourcePermissions == rhs.resourcePermissions
    }
}

/// RocketMQ's `plain_acl.yml` (4.x format), parsed with Yams:
///
/// ```yaml
/// globalWhiteRemoteAddresses: [10.10.103.*]
/// accounts:
///   - accessKey: RocketMQ
///     secretKey: 12345678
///     whiteRemoteAddress:
///     admin: false
///     defaultTopicPerm: DENY
///     defaultGroupPerm: SUB
///     topicPerms: [topicA=DENY, topicB=PUB|SUB]
///     groupPerms: [groupA=DENY]
/// ```
///
/// Unknown keys (`dataVersion`, comments) are ignored, so an existing file works unchanged. A later account with
/// the same access key replaces an earlier one, as in Java.
public struct PlainAclConfig: Sendable, Equatable {
    public let globalWhiteRemoteAddresses: [RemoteAddressPattern]
    public let accounts: [String: AclAccount]
    /// `accounts` by their keys' UTF-8 (requests are looked up without a String).
    let accountIndex: AclAccountIndex

    public init(globalWhiteRemoteAddresses: [RemoteAddressPattern], accounts: [AclAccount]) {
        self.globalWhiteRemoteAddresses = globalWhiteRemoteAddresses
        self.accounts = Dictionary(accounts.map { ($0.accessKey, $0) }, uniquingKeysWith: { _, later in later })
        accountIndex = AclAccountIndex(self.accounts.values)
    }

    public init(yaml: String) throws(AclConfigError) {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch { throw .notYAML("\(error)") }
        guard let root else { self.init(globalWhiteRemoteAddresses: [], accounts: []); return }
        guard root.mapping != nil else { throw .notYAML("the document is not a mapping") }
        var whites: [RemoteAddressPattern] = []
        for text in Self.strings(root["globalWhiteRemoteAddresses"]) {
            whites.append(try RemoteAddressPattern(parsing: text))
        }
        var accounts: [AclAccount] = []
        for node in root["accounts"]?.sequence ?? [] {
            accounts.append(try Self.account(node))
        }
        self.init(globalWhiteRemoteAddresses: whites, accounts: accounts)
    }

    private static func account(_ node: Node) throws(AclConfigError) -> AclAccount {
        let accessKey = text(node["accessKey"]), secretKey = text(node["secretKey"])
        guard let accessKey, let secretKey, accessKey.count > 6, secretKey.count > 6 else {
            throw .badCredentials(accessKey: accessKey)
        }
        var resources: [String: AclPermission] = [:]
        for (key, isTopic) in [("groupPerms", false), ("topicPerms", true)] {
            for entry in strings(node[key]) {
                let items = entry.split(separator: "=").map { trimmed(String($0)) }.filter { !$0.isEmpty }
                guard items.count == 2 else { throw .badResourcePermission(entry) }
                resources[isTopic ? items[0] : AclResource.retryTopic(group: items[0])] = AclPermission(parsing: items[1])
            }
        }
        return AclAccount(
            accessKey: accessKey, signingKey: AclSigningKey(secretKey),
            whiteRemoteAddress: try RemoteAddressPattern(parsing: text(node["whiteRemoteAddress"]) ?? ""),
            isAdmin: ["true", "yes", "on"].contains(text(node["admin"])?.lowercased() ?? ""),
            defaultTopicPermission: AclPermission(parsing: text(node["defaultTopicPerm"])),
            defaultGroupPermission: AclPermission(parsing: text(node["defaultGroupPerm"])),
            resourcePermissions: resources)
    }

    /// A scalar's text; nil for a missing key or `null` / `~` / an empty value.
    private static func text(_ node: Node?) -> String? {
        guard let scalar = node?.scalar else { return nil }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return nil }
        return scalar.string
    }

    /// A sequence of scalars (one scalar counts as a list of one; null as none).
    private static func strings(_ node: Node?) -> [String] {
        if let sequence = node?.sequence { return sequence.compactMap(text) }
        return text(node).map { [$0] } ?? []
    }
}
