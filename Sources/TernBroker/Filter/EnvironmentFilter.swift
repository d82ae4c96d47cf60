import Foundation
import TernMessage

/// Environment isolation (multi-environment pipelines; README "Environment isolation"), behind
/// `environmentIsolationEnable`.
///
/// - A message's environment is its property `__ENV` (absent or empty = a base message).
/// - A consumer group's environment comes from its name: `<base>%env%<name>` (the C++ client can only set a
///   group name); any other group is a base group.
/// - Per topic: a group of environment E receives the messages tagged E, and base messages only while the base
///   group `<base>` has no consumer online subscribed to the topic (it stands in for the missing base
///   service); a base group receives base messages only; no group receives another environment's messages.
/// - Retry and dead-letter topics belong to one group and are not filtered.
///
/// "Online" is decided at each read of a pull (a long-polled pull re-checks when it wakes).
struct EnvironmentFilter: Sendable {
    static let property: StaticString = "__ENV"
    static let groupMarker = "%env%"

    /// Environment of the pulling group; nil for a base group.
    let environment: [UInt8]?
    /// Whether base messages pass (environment groups only: the base group is offline for this topic).
    private(set) var takesBase: Bool
    /// Where `current` looks the base group up: (registry, base group, topic).
    private let source: (clients: ClientRegistry, base: String, topic: String)?

    /// The filter for `group` pulling `topic`; nil when none applies (retry / DLQ topics).
    init?(group: String, topic: String, clients: ClientRegistry) {
        if topic.hasPrefix("%RETRY%") || topic.hasPrefix("%DLQ%") { return nil }
        let (base, env) = Self.split(group: group)
        environment = env.map { Array($0.utf8) }
        takesBase = false
        source = env == nil ? nil : (clients, base, topic)
    }

    init(environment: String?, takesBase: Bool) {
        self.environment = environment.map { Array($0.utf8) }
        self.takesBase = takesBase
        source = nil
    }

    /// This filter with `takesBase` as of now.
    var current: EnvironmentFilter {
        guard let source else { return self }
        var f = self
        f.takesBase = source.clients.subscription(group: source.base, topic: source.topic) == nil
        return f
    }

    /// `(base group, environment)` of a group name: `orders%env%dev` → ("orders", "dev"); a name without the
    /// marker, or with nothing after it, is a base group.
    static func split(group: String) -> (base: String, environment: String?) {
        guard let r = group.range(of: groupMarker, options: .backwards), r.upperBound < group.endIndex else {
            return (group, nil)
        }
        return (String(group[..<r.lowerBound]), String(group[r.upperBound...]))
    }

    func matches(properties: UnsafeRawBufferPointer) -> Bool {
        let tagged = MessageProperties.value(of: Self.property, in: properties).flatMap { $0.isEmpty ? nil : $0 }
        guard let tagged else { return environment == nil || takesBase }
        guard let environment else { return false }
        return tagged.elementsEqual(environment)
    }
}
