import Foundation
import Logging
import NIOConcurrencyHelpers
import TernProtocol
import TernRemoting
import TernSystem

/// The subscription-group table (RocketMQ's `SubscriptionGroupManager`): created and changed by admins
/// (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP), removed by DELETE_SUBSCRIPTIONGROUP, and created on first use when
/// `autoCreateSubscriptionGroup` is on (or the group is a system group). Persisted as Java's
/// `<store>/config/subscriptionGroup.json`, which Tern reads as Java writes it.
///
/// A change is O(1) on the caller's thread; the file is rewritten by `persistService` off the loops (and once
/// more at shutdown). A crash can lose auto-created groups since the last write: they are created again on use.
public final class SubscriptionGroupManager: Sendable {
    /// Groups every Java broker has (`SubscriptionGroupManager.init`).
    static let systemGroups = ["TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP", "CID_ONS-HTTP-PROXY",
                               "CID_ONSAPI_PULL", "CID_ONSAPI_PERMISSION", "CID_ONSAPI_OWNER"]

    private struct State {
        var wrapper: SubscriptionGroupWrapper
        var unpersisted: Bool
    }
    private let state: NIOLockedValueBox<State>
    private let path: String
    private let logger: Logger
    private let clock: any TernClock
    private let autoCreate: Bool
    /// Retry limit of groups created on use (`retryMaxTimes` in broker.conf).
    private let defaultRetryMaxTimes: Int
    private let persister = NIOLockedValueBox<TimerService?>(nil)
    /// One writer at a time: an older snapshot never overwrites a newer one.
    private let writing = NIOLock()

    public init(storeRoot: String, config: BrokerConfig, logger: Logger) throws {
        path = storeRoot + "/config/subscriptionGroup.json"
        self.logger = logger
        clock = config.clock
        autoCreate = config.autoCreateSubscriptionGroup
        defaultRetryMaxTimes = Int(config.retryMaxTimes)
        var wrapper = SubscriptionGroupWrapper(subscriptionGroupTable: [:], dataVersion: DataVersion(timestamp: clock.wallMillis()))
        if let data = FileManager.default.contents(atPath: path) {
            do { wrapper = try JSONDecoder().decode(SubscriptionGroupWrapper.self, from: data) } catch {
                throw BrokerError.badConfigFile(path: path, reason: "\(error)")
            }
        }
        let loaded = wrapper
        for g in Self.systemGroups where wrapper.subscriptionGroupTable[g] == nil {
            wrapper.subscriptionGroupTable[g] = SubscriptionGroupConfig(groupName: g)
        }
        state = NIOLockedValueBox(State(wrapper: wrapper, unpersisted: loaded != wrapper))
    }

    /// Java's `MixAll.isSysConsumerGroup`.
    static func isSystemGroup(_ group: String) -> Bool { group.hasPrefix("CID_RMQ_SYS_") }

    public var all: SubscriptionGroupWrapper { state.withLockedValue { $0.wrapper } }

    /// The group's settings; created with the defaults when auto-creation allows it, else nil.
    public func find(_ group: String) -> SubscriptionGroupConfig? {
        let (config, created) = state.withLockedValue { s -> (SubscriptionGroupConfig?, Bool) in
            if let c = s.wrapper.subscriptionGroupTable[group] { return (c, false) }
            guard autoCreate || Self.isSystemGroup(group) else { return (nil, false) }
            let c = SubscriptionGroupConfig(groupName: group, retryMaxTimes: defaultRetryMaxTimes)
            s.wrapper.subscriptionGroupTable[group] = c
            s.wrapper.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
            return (c, true)
        }
        if created { changed() }
        return config
    }

    /// The group's `retryMaxTimes` without creating the group (the send path asks for every retry message).
    func retryMaxTimes(group: String) -> Int? {
        state.withLockedValue { $0.wrapper.subscriptionGroupTable[group]?.retryMaxTimes }
    }

    public func update(_ config: SubscriptionGroupConfig) {
        state.withLockedValue { s in
            s.wrapper.subscriptionGroupTable[config.groupName] = config
            s.wrapper.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
        }
        changed()
    }

    /// A slave takes its master's table whole when it differs (Java's `syncSubscriptionGroupConfig`); returns
    /// whether it changed.
    @discardableResult
    public func adoptMasterTable(_ master: SubscriptionGroupWrapper) -> Bool {
        let didChange = state.withLockedValue { s -> Bool in
            guard s.wrapper != master else { return false }
            s.wrapper = master
            s.unpersisted = true
            return true
        }
        if didChange { changed() }
        return didChange
    }

    /// Removes the group; false when it was not there.
    @discardableResult
    public func delete(_ group: String) -> Bool {
        let removed = state.withLockedValue { s -> Bool in
            guard s.wrapper.subscriptionGroupTable.removeValue(forKey: group) != nil else { return false }
            s.wrapper.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
            return true
        }
        if removed { changed() }
        return removed
    }

    /// Why a pull of `group` is refused (Java's PullMessageProcessor order: unknown group, consumption
    /// disabled, broadcast disabled); nil when it may pull.
    func pullRefusal(group: String, broadcasting: Bool) -> RequestRejection? {
        guard let config = find(group) else {
            return RequestRejection(ResponseCode.subscriptionGroupNotExist, "subscription group [\(group)] does not exist")
        }
        guard config.consumeEnable else {
            return RequestRejection(ResponseCode.noPermission, "subscription group no permission, \(group)")
        }
        guard config.consumeBroadcastEnable || !broadcasting else {
            return RequestRejection(ResponseCode.noPermission, "the consumer group[\(group)] can not consume by broadcast way")
        }
        return nil
    }

    /// The service that writes the table after changes and once more when it stops.
    func persistService(events: LifecycleEvents?) -> TimerService {
        let service = TimerService(name: "subscription-groups", clock: clock, events: events, step: { [self] now in
            do {
                try persistIfChanged()
                return nil
            } catch {
                logger.warning("cannot persist the subscription groups", metadata: ["error": "\(error)"])
                return now + TopicConfigManager.retryMillis
            }
        }, onStop: { [self] in
            do { try persistIfChanged() } catch {
                logger.error("cannot persist the subscription groups at shutdown", metadata: ["error": "\(error)"])
            }
        })
        persister.withLockedValue { $0 = service }
        return service
    }

    private func changed() { persister.withLockedValue { $0 }?.wake() }

    /// Writes the table when it changed since the last write; on failure it stays marked changed.
    func persistIfChanged() throws {
        try writing.withLock {
            let snapshot = state.withLockedValue { s -> SubscriptionGroupWrapper? in
                guard s.unpersisted else { return nil }
                s.unpersisted = false
                return s.wrapper
            }
            guard let snapshot else { return }
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try FileSystem.writeAtomically(path, Array(encoder.encode(snapshot)))
            } catch {
                state.withLockedValue { $0.unpersisted = true }
                throw BrokerError.io("cannot write \(path): \(error)")
            }
        }
    }
}
