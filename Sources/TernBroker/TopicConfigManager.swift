import Foundation
import Logging
import NIOConcurrencyHelpers
import TernProtocol
import TernSystem

/// The broker's topic table: system topics, topics created by admins, by first send (auto-create) and by
/// consumer heartbeats (`%RETRY%<group>`). Persisted as a `TopicConfigSerializeWrapper` JSON document at
/// `<store>/config/topics.json`, rewritten atomically (temp file, fsync, rename, fsync of the directory).
///
/// A change is O(1) on the caller's thread (an event loop): the table is updated in memory at once and the
/// file is rewritten by the `persistService` task, off the loops, once per burst of changes (changes made while
/// it writes, or in the pause a `WorkPacer` keeps after a long write, go into the next write), and a last time
/// when the service stops (graceful shutdown). A crash can
/// lose the creations since the last write; auto-created topics are created again on their next use.
///
/// Every creation path refuses a name `invalidTopicReason` rejects (an auto-created `%RETRY%<group>` too), so no
/// unwritable or path-like name reaches the table or the file.
///
/// Invariant: `dataVersion` changes exactly when the table changes; name servers take a broker's topics only
/// when its data version changed, and `onChange` (re-registration) runs after every change, outside the lock.
public final class TopicConfigManager: Sendable {
    public static let autoCreateTopicKey = "TBW102"
    /// Longest topic name (`TOPIC_MAX_LENGTH`).
    public static let topicLengthMax = 127
    /// Topics clients may not send to directly.
    public static let reservedTopics: Set<String> = [
        "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC",
        "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT",
    ]

    private struct State {
        /// Every change bumps `generation` (a config read at generation g is current while it stays g).
        var table: [String: TopicConfig] { didSet { generation &+= 1 } }
        var generation: UInt64 = 0
        var dataVersion: DataVersion
        /// The table changed since the last snapshot taken for the file.
        var unpersisted = false
    }
    private let state: NIOLockedValueBox<State>
    private let path: String
    private let logger: Logger
    /// Data versions carry this clock's time (`BrokerConfig.clock`).
    private let clock: any TernClock
    /// Wrapped in a struct: a bare closure read through the box's generic `inout` is re-abstracted on the way
    /// in and out, and the written-back value gains two thunks per read (a call chain as deep as the number of
    /// changes, measured at 168,000 frames after 60,000 topic creations).
    private struct ChangeAction: Sendable {
        let run: @Sendable () -> Void
    }
    private let onChange = NIOLockedValueBox<ChangeAction?>(nil)
    /// Wakes the persistence service after a change.
    private let persister = NIOLockedValueBox<TimerService?>(nil)
    /// Spaces the writes of a growing table under a stream of changes.
    private let pacer = WorkPacer()
    /// Held while a snapshot is encoded and written: one writer at a time, so an older snapshot never
    /// overwrites a newer one.
    private let writing = NIOLock()
    /// Wait before retrying a failed write.
    static let retryMillis: Int64 = 1_000

    /// Loads `<storeRoot>/config/topics.json` (if present) and adds the system topics the config asks for.
    public init(storeRoot: String, config: BrokerConfig, logger: Logger) throws {
        self.path = storeRoot + "/config/topics.json"
        self.logger = logger
        self.clock = config.clock
        var table: [String: TopicConfig] = [:]
        var version = DataVersion(timestamp: clock.wallMillis())
        var loaded: [String: TopicConfig]?
        if let data = FileManager.default.contents(atPath: path) {
            do {
                let wrapper = try TopicTableDecoder.decode(Array(data))
                table = wrapper.topicConfigTable
                loaded = table
                version = wrapper.dataVersion
            } catch {
                throw BrokerError.badConfigFile(path: path, reason: "\(error)")
            }
        }
        let n = config.defaultTopicQueueNums
        if config.autoCreateTopicEnable {
            table[Self.autoCreateTopicKey] = TopicConfig(topicName: Self.autoCreateTopicKey, readQueueNums: n,
                                                         writeQueueNums: n, perm: Perm.readWrite | Perm.inherit)
        } else {
            table.removeValue(forKey: Self.autoCreateTopicKey)
        }
        for name in [config.brokerClusterName, config.brokerName] where table[name] == nil {
            table[name] = TopicConfig(topicName: name, readQueueNums: 1, writeQueueNums: 1, perm: Perm.readWrite | Perm.inherit)
        }
        if table["SELF_TEST_TOPIC"] == nil {
            table["SELF_TEST_TOPIC"] = TopicConfig(topicName: "SELF_TEST_TOPIC", readQueueNums: 1, writeQueueNums: 1)
        }
        // Rewritten at start only when the system topics changed it (a restart with a large table stays fast).
        state = NIOLockedValueBox(State(table: table, dataVersion: version, unpersisted: loaded != table))
        try persistIfChanged()
    }

    /// The service that writes the table after changes and once more when it stops.
    func persistService(events: LifecycleEvents?) -> TimerService {
        let service = TimerService(name: "topics", clock: clock, events: events, step: { [self] now in
            let delay = pacer.delayMillis
            if delay > 0 { return now + delay }
            do {
                try await pacer.run { try persistIfChanged() }
                return nil
            } catch {
                logger.warning("cannot persist the topic table", metadata: ["error": "\(error)"])
                return now + Self.retryMillis
            }
        }, onStop: { [self] in
            do { try persistIfChanged() } catch {
                logger.error("cannot persist the topic table at shutdown", metadata: ["error": "\(error)"])
            }
        })
        persister.withLockedValue { $0 = service }
        return service
    }

    /// Called after every change (the broker re-registers with its name servers).
    public func setOnChange(_ action: (@Sendable () -> Void)?) {
        onChange.withLockedValue { $0 = action.map(ChangeAction.init) }
    }

    public func config(_ topic: String) -> TopicConfig? { state.withLockedValue { $0.table[topic] } }

    public var all: TopicConfigSerializeWrapper {
        state.withLockedValue { TopicConfigSerializeWrapper(topicConfigTable: $0.table, dataVersion: $0.dataVersion) }
    }

    public var dataVersion: DataVersion { state.withLockedValue { $0.dataVersion } }

    /// Creates or replaces `config`.
    public func update(_ config: TopicConfig) throws {
        try Self.checkName(config.topicName)
        let didChange = state.withLockedValue { s -> Bool in
            if s.table[config.topicName] == config { return false }
            s.table[config.topicName] = config
            s.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
            return true
        }
        if didChange { changed() }
    }

    /// A slave adopts its master's table (RocketMQ's `SlaveSynchronize.syncTopicConfig`): replaced whole, with
    /// the master's data version, when that version differs from ours. Returns whether anything changed.
    @discardableResult
    public func adoptMasterTable(_ master: TopicConfigSerializeWrapper) -> Bool {
        let didChange = state.withLockedValue { s -> Bool in
            if s.dataVersion == master.dataVersion && s.table == master.topicConfigTable { return false }
            s.table = master.topicConfigTable
            s.dataVersion = master.dataVersion
            s.unpersisted = true
            return true
        }
        if didChange { changed() }
        return didChange
    }

    /// Removes `topic`; returns false when it did not exist.
    @discardableResult
    public func delete(_ topic: String) throws -> Bool {
        let removed = state.withLockedValue { s -> Bool in
            guard s.table.removeValue(forKey: topic) != nil else { return false }
            s.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
            return true
        }
        if removed { changed() }
        return removed
    }

    /// The config of `topic`, creating it on first send from `defaultTopic` when that topic carries the
    /// INHERIT bit (RocketMQ's `createTopicInSendMessageMethod`): queue count min(requested, default's write
    /// queues), perm without INHERIT. Nil when the topic does not exist and cannot be created.
    public func configForSend(_ topic: String, defaultTopic: String?, requestedQueueNums: Int) throws -> TopicConfig? {
        try configForSend(topic, defaultTopic: defaultTopic, requestedQueueNums: requestedQueueNums, cached: nil)?.config
    }

    /// A config read for sends, with the table generation it was read at.
    struct CachedConfig: Sendable {
        /// The name it was looked up by.
        let topic: String
        let config: TopicConfig
        /// nil: read right after a creation (not cached; the next send reads it again).
        let generation: UInt64?
    }

    /// `configForSend` for a producer's repeated sends to one topic: `cached` (a config of `topic` from an
    /// earlier call) is answered as is while the table has not changed since it was read: one lock, no hashing.
    func configForSend(_ topic: String, defaultTopic: String?, requestedQueueNums: Int,
                       cached: CachedConfig?) throws -> CachedConfig? {
        if let cached, let generation = cached.generation, state.withLockedValue({ $0.generation }) == generation {
            return cached
        }
        if config(topic) == nil { try Self.checkName(topic) }
        let created = state.withLockedValue { s -> CachedConfig?? in
            if let existing = s.table[topic] { return .some(CachedConfig(topic: topic, config: existing, generation: s.generation)) }
            guard let def = s.table[defaultTopic ?? Self.autoCreateTopicKey], Perm.isInherited(def.perm) else { return .some(nil) }
            let n = max(1, min(requestedQueueNums > 0 ? requestedQueueNums : def.writeQueueNums, def.writeQueueNums))
            let c = TopicConfig(topicName: topic, readQueueNums: n, writeQueueNums: n, perm: def.perm & ~Perm.inherit)
            s.table[topic] = c
            s.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
            return nil
        }
        if let existing = created { return existing }
        changed()
        logger.info("auto-created topic", metadata: ["topic": "\(topic)"])
        return config(topic).map { CachedConfig(topic: topic, config: $0, generation: nil) }
    }

    /// Creates `topic` with `queueNums` queues when absent (retry and dead-letter topics, system topics);
    /// returns the config either way.
    @discardableResult
    public func createIfAbsent(_ topic: String, queueNums: Int, perm: Int = Perm.readWrite) throws -> TopicConfig {
        if config(topic) == nil { try Self.checkName(topic) }
        let (config, created) = state.withLockedValue { s -> (TopicConfig, Bool) in
            if let existing = s.table[topic] { return (existing, false) }
            let c = TopicConfig(topicName: topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: perm)
            s.table[topic] = c
            s.dataVersion.bump(now: clock.wallMillis())
            s.unpersisted = true
            return (c, true)
        }
        if created { changed() }
        return config
    }

    /// Why `topic` is not a valid name for a client send or a topic creation; nil when it is valid.
    public static func invalidTopicReason(_ topic: String) -> String? {
        if topic.isEmpty { return "the specified topic is blank" }
        if topic.utf8.count > topicLengthMax { return "the specified topic is longer than topic max length \(topicLengthMax)" }
        if !NameCharacters.areLegal(topic) {
            return "the specified topic[\(topic)] contains illegal characters, allowing only \(NameCharacters.pattern)"
        }
        return nil
    }

    /// A topic the table refuses to create: it could never be written (length) or is unsafe in files (characters).
    public struct InvalidTopicName: Error, CustomStringConvertible {
        public let description: String
    }

    private static func checkName(_ topic: String) throws(InvalidTopicName) {
        if let why = invalidTopicReason(topic) { throw InvalidTopicName(description: why) }
    }

    /// After every change: wake the writer and the registration (both cheap; the work runs on their tasks).
    private func changed() {
        persister.withLockedValue { $0 }?.wake()
        onChange.withLockedValue { $0 }?.run()
    }

    /// Writes the table when it changed since the last write (a no-op otherwise). On failure the table stays
    /// marked changed, so the next call writes it.
    func persistIfChanged() throws {
        try writing.withLock {
            let snapshot = state.withLockedValue { s -> TopicConfigSerializeWrapper? in
                guard s.unpersisted else { return nil }
                s.unpersisted = false
                return TopicConfigSerializeWrapper(topicConfigTable: s.table, dataVersion: s.dataVersion)
            }
            guard let snapshot else { return }
            do { try write(snapshot) } catch {
                state.withLockedValue { $0.unpersisted = true }
                throw error
            }
        }
    }

    private func write(_ wrapper: TopicConfigSerializeWrapper) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try FileSystem.writeAtomically(path, Array(encoder.encode(wrapper)))
        } catch {
            throw BrokerError.io("cannot write \(path): \(error)")
        }
    }
}
