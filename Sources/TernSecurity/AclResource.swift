/// Resource names as the ACL checks them: topics by name, groups as their retry topics.
public enum AclResource {
    public static let retryPrefix = "%RETRY%"
    /// Java's `TopicValidator.RMQ_SYS_TRACE_TOPIC`: publishing traces to it needs no topic permission.
    public static let traceTopic = "RMQ_SYS_TRACE_TOPIC"

    /// The resource a group is checked as (Java `MixAll.getRetryTopic`).
    public static func retryTopic(group: String) -> String { retryPrefix + group }

    public static func isRetryTopic(_ name: String) -> Bool { name.hasPrefix(retryPrefix) }

    /// `name == traceTopic`, the lengths compared first (String `==` on unequal names took its slow path).
    static func isTraceTopic(_ name: String) -> Bool {
        name.utf8.count == traceTopic.utf8.count && name == traceTopic
    }
}

/// What one request needs, decided by the request code (Java `PlainAccessValidator.parse`).
///
/// The first resource is stored inline: most requests (sends, pulls' topic) name one or two, and an array per
/// request was a heap allocation on every signed send.
public struct AclRequirement: Sendable, Equatable {
    public typealias Resource = (name: String, permission: AclPermission)

    /// Only `admin: true` accounts may send it.
    public var needsAdmin: Bool
    private var first: Resource?
    private var more: [Resource] = []

    public init(needsAdmin: Bool = false, resources: [Resource] = []) {
        self.needsAdmin = needsAdmin
        for resource in resources { add(resource.name, resource.permission) }
    }

    /// Topics and `%RETRY%group`s with the permission each needs, in the order added.
    public var resources: [Resource] { (first.map { [$0] } ?? []) + more }

    public mutating func add(_ name: String?, _ permission: AclPermission) {
        guard let name else { return }
        if first == nil { first = (name, permission) } else { more.append((name, permission)) }
    }

    /// The first resource (in the order added) `predicate` accepts, without building ``resources``.
    public func first(where predicate: (Resource) -> Bool) -> Resource? {
        guard let first else { return nil }
        if predicate(first) { return first }
        return more.first(where: predicate)
    }

    public static func == (lhs: AclRequirement, rhs: AclRequirement) -> Bool {
        let (l, r) = (lhs.resources, rhs.resources)
        return lhs.needsAdmin == rhs.needsAdmin && l.count == r.count
            && zip(l, r).allSatisfy { $0.name == $1.name && $0.permission == $1.permission }
    }
}
