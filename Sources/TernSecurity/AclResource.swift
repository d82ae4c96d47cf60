/// Resource names as the ACL checks them: topics by name, groups as their retry topics.
public enum AclResource {
    public static let retryPrefix = "%RETRY%"
    /// Java's `TopicValidator.RMQ_SYS_TRACE_TOPIC`: publishing traces to it needs no topic permission.
    public static let traceTopic = "RMQ_SYS_TRACE_TOPIC"

    /// The resource a group is checked as (Java `MixAll.getRetryTopic`).
    public static func retryTopic(group: String) -> String { retryPrefix + group }

    public static func isRetryTopic(_ name: String) -> Bool { name.hasPrefix(retryPrefix) }
}

/// What one request needs, decided by the request code (Java `PlainAccessValidator.parse`).
public struct AclRequirement: Sendable, Equatable {
    /// Only `admin: true` accounts may send it.
    public var needsAdmin: Bool
    /// Topics and `%RETRY%group`s with the permission each needs.
    public var resources: [(name: String, permission: AclPermission)]

    public init(needsAdmin: Bool = false, resources: [(name: String, permission: AclPermission)] = []) {
        self.needsAdmin = needsAdmin
        self.resources = resources
    }

    public mutating func add(_ name: String?, _ permission: AclPermission) {
        guard let name else { return }
        resources.append((name, permission))
    }

    public static func == (lhs: AclRequirement, rhs: AclRequirement) -> Bool {
        lhs.needsAdmin == rhs.needsAdmin && lhs.resources.count == rhs.resources.count
            && zip(lhs.resources, rhs.resources).allSatisfy { $0.name == $1.name && $0.permission == $1.permission }
    }
}
