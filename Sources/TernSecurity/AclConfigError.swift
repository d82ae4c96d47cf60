/// Why a `plain_acl.yml` cannot be used. A file with any of these is refused as a whole: at startup the
/// server does not start, on reload the previous accounts stay in force.
public enum AclConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not YAML, or not a mapping at the top.
    case notYAML(String)
    /// An account without `accessKey` / `secretKey`, or one of 6 characters or fewer (Java's minimum).
    case badCredentials(accessKey: String?)
    /// An address pattern Java's `RemoteAddressStrategyFactory` refuses.
    case badAddress(String)
    /// A `topicPerms` / `groupPerms` entry that is not `resource=PERM`.
    case badResourcePermission(String)
    /// The file could not be read.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notYAML(let reason): "not a plain ACL YAML document: \(reason)"
        case .badCredentials(let key):
            "accessKey=\(key ?? "<missing>"): accessKey and secretKey are required and must be longer than 6 characters"
        case .badAddress(let text): "bad remote address pattern \"\(text)\""
        case .badResourcePermission(let text): "bad permission \"\(text)\", expected resource=PUB|SUB|PUB|SUB|DENY"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        }
    }
}
