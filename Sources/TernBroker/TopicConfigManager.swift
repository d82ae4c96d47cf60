import Foundation
import Logging
import NIOConcurrencyHelpers
import TernProtocol
import TernSystem

/// The broker's topic table: system topics, topics created by admins, by first send (auto-create) and by
/// consumer heartbeats (`%RETRY%<group>`). Persisted as a `TopicConfigSerializeWrapper` JSON document at
/// `<store>/config/topics.json`, rewritten atomically (temp file, fsync, rename, fsync of the directory) on every change.
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
        var table: [String: TopicConfig]
        var dataVersion: DataVersion
    }
    private let state: NIOLockedValueBox<State>
    private let path: String
    private let logger: Logger
    /// Data versions carry this clock's time (`BrokerConfig.clock`).
    private let clock: any TernClock
    private let onChange = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    /// Loads `<storeRoot>/config/topics.json` (if present) and adds the system topics the config asks for.
    public init(storeRoot: String, config: BrokerConfig, logger: Logger) throws {
        self.path = storeRoot + "/config/topics.json"
        self.logger = logger
        self.clock = config.clock
        var table: [String: TopicConfig] = [:]
        var version = DataVersion(timestamp: clock.wallMillis())
        if let data = FileManager.default.contents(atPath: path) {
            do {
                let wrapper = try JSONDecoder().decode(TopicConfigSerializeWrapper.self, from: data)
                table = wrapper.topicConfigTable
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
        state = NIOLockedValueBox(State(table: table, dataVersion: version))
        try persist()
    }

    /// Called after every change (the broker re-registers with its name servers).
    public func setOnChange(_ action: (@Sendable () -> Void)?) { onChange.withLockedValue { $0 = action } }

    public func config(_ topic: String) -> TopicConfig? { state.withLockedValue { $0.table[topic] } }

    public var all: TopicConfigSerializeWrapper {
        state.withLockedValue { TopicConfigSerializeWrapper(topicConfigTable: $0.table, dataVersion: $0.dataVersion) }
    }

    public var dataVersion: DataVersion { state.withLockedValue { $0.dataVersion } }

    /// Creates or replaces `config`.
    public func update(_ config: TopicConfig) throws {
        try Self.checkName(config.topicName)
        let changed = state.withLockedValue { s -> Bool in
            if s.table[config.topicName] == config { return false }
            s.table[config.topicName] = config
            s.dataVersion.bump(now: clock.wallMillis())
            return true
        }
        if changed { try changedAndPersist() }
    }

    /// Removes `topic`; returns false when it did not exist.
    @discardableResult
    public func delete(_ topic: String) throws -> Bool {
        let removed = state.withLockedValue { s -> Bool in
            guard s.table.removeValue(forKey: topic) != nil else { return false }
            s.dataVersion.bump(now: clock.wallMillis())
            return true
        }
        if removed { try changedAndPersist() }
        return removed
    }

    /// The config of `topic`, creating it on first send from `defaultTopic` when that topic carries the
    /// INHERIT bit (RocketMQ's `createTopicInSendMessageMethod`): queue count min(requested, default's write
    /// queues), perm without INHERIT. Nil when the topic does not exist and cannot be created.
    public func configForSend(_ topic: String, defaultTopic: String?, requestedQueueNums: Int) throws -> TopicConfig? {
        if config(topic) == nil { try Self.checkName(topic) }
        let created = state.withLockedValue { s -> TopicConfig?? in
            if let existing = s.table[topic] { return .some(.some(existing)) }
            guard let def = s.table[defaultTopic ?? Self.autoCreateTopicKey], Perm.isInherited(def.perm) else { return .some(nil) }
            let n = max(1, min(requestedQueueNums > 0 ? requestedQueueNums : def.writeQueueNums, def.writeQueueNums))
            let c = TopicConfig(topicName: topic, readQueueNums: n, writeQueueNums: n, perm: def.perm & ~Perm.inherit)
            s.table[topic] = c
            s.dataVersion.bump(now: clock.wallMillis())
            return nil
        }
        if let existing = created { return existing }
        try changedAndPersist()
        logger.info("auto-created topic", metadata: ["topic": "\(topic)"])
        return config(topic)
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
            return (c, true)
        }
        if created { try changedAndPersist() }
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

    private func changedAndPersist() throws {
        try persist()
        onChange.withLockedValue { $0 }?()
    }

    private func persist() throws {
        let wrapper = all
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
