import Logging
import NIOCore
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem

/// Topic administration and broker figures, whatever transport carried the request (remoting.md §5.3).
enum AdminRequest: Sendable, Equatable {
    /// Creates or replaces a topic's config (UPDATE_AND_CREATE_TOPIC).
    case createTopic(TopicConfig)
    /// Removes a topic's config; the log keeps its records until retention (DELETE_TOPIC_IN_BROKER).
    case deleteTopic(String)
    /// Every topic config (GET_ALL_TOPIC_CONFIG).
    case allTopics
    /// Per write queue: min / max offset and last store time (GET_TOPIC_STATS_INFO).
    case topicStats(String)
    /// Version, traffic and store figures (GET_BROKER_RUNTIME_INFO).
    case runtimeInfo
    /// The settings as properties text (GET_BROKER_CONFIG).
    case brokerConfig
}

enum AdminResult: Sendable {
    case done
    case topics(TopicConfigSerializeWrapper)
    case topicStats([TopicStatsBody.Entry])
    case runtimeInfo([String: String])
    /// Properties text and the config's data version (JSON), Java's `getAllConfigsFormatString` / `version`.
    case brokerConfig(text: String, version: String)
}

/// The admin requests as a service: checks, topic-table changes (persisted and re-registered by
/// `TopicConfigManager`), index reads. Refusals carry RocketMQ's code and remark.
///
/// Thread-safety: any thread; a topic change writes topics.json off the caller (the topics service).
final class AdminService: Sendable {
    static let versionDesc = "V4_9_7"
    /// Upper bound on an admin-set queue count (each queue is a consume-queue range in the index).
    static let maxQueueNums = 1024

    let context: BrokerContext
    /// Messages in the store's queues when the broker started: `msgPutTotalTodayNow` counts from here, as
    /// Java's put counter counts from process start.
    private let messagesAtStart: Int64
    private let bootMillis: Int64

    init(context: BrokerContext) {
        self.context = context
        messagesAtStart = (try? Self.storedMessageCount(context.store)) ?? 0
        bootMillis = context.clock.wallMillis()
    }

    func answer(_ request: AdminRequest) -> Result<AdminResult, RequestRejection> {
        switch request {
        case .createTopic(let config): return createTopic(config)
        case .deleteTopic(let topic): return deleteTopic(topic)
        case .allTopics: return .success(.topics(context.topics.all))
        case .topicStats(let topic): return topicStats(topic)
        case .runtimeInfo:
            return .success(.runtimeInfo(BrokerRuntimeInfo.table(context, messagesAtStart: messagesAtStart, bootMillis: bootMillis)))
        case .brokerConfig:
            let version = String(buffer: JSONBody.encode(DataVersion(timestamp: bootMillis)))
            // The live flow limits and flush settings (UPDATE_BROKER_CONFIG, SET_FLOW_LIMIT) over broker.conf's.
            var config = context.config
            config.asyncFlush = context.store.asyncFlush
            config.flow.defaultTopicRateLimit = context.flow.topicLimiter.snapshot.defaultRate
            config.flow.sendBackRateLimit = context.flow.sendBackLimiter.snapshot.defaultRate
            config.flow.defaultGroupPullRateLimit = context.flow.pullLimiter.snapshot.defaultRate
            return .success(.brokerConfig(text: config.propertiesText, version: version))
        }
    }

    /// Why `topic` may not be created or deleted by an admin; nil when it may.
    static func refusedTopicReason(_ topic: String) -> String? {
        if let why = TopicConfigManager.invalidTopicReason(topic) { return why }
        if TopicConfigManager.reservedTopics.contains(topic) || topic == TopicConfigManager.autoCreateTopicKey {
            return "The topic[\(topic)] is conflict with system topic."
        }
        return nil
    }

    private func createTopic(_ config: TopicConfig) -> Result<AdminResult, RequestRejection> {
        let topic = config.topicName, read = config.readQueueNums, write = config.writeQueueNums
        if let why = Self.refusedTopicReason(topic) { return .failure(RequestRejection(ResponseCode.systemError, why)) }
        guard read >= 0, write >= 0, read <= Self.maxQueueNums, write <= Self.maxQueueNums else {
            return .failure(RequestRejection(ResponseCode.systemError,
                                             "queue counts must be within 0...\(Self.maxQueueNums): read \(read), write \(write)"))
        }
        do {
            try context.topics.update(config)
        } catch {
            return .failure(RequestRejection(ResponseCode.systemError, "\(error)"))
        }
        context.logger.info("topic created or updated", metadata: [
            "topic": "\(topic)", "read": "\(read)", "write": "\(write)", "perm": "\(config.perm)"])
        return .success(.done)
    }

    private func deleteTopic(_ topic: String) -> Result<AdminResult, RequestRejection> {
        if let why = Self.refusedTopicReason(topic) { return .failure(RequestRejection(ResponseCode.systemError, why)) }
        do {
            // Only the config goes: the log keeps the records until retention removes them.
            if try context.topics.delete(topic) {
                context.logger.info("topic deleted", metadata: ["topic": "\(topic)"])
            }
        } catch {
            return .failure(RequestRejection(ResponseCode.systemError, "\(error)"))
        }
        return .success(.done)
    }

    private func topicStats(_ topic: String) -> Result<AdminResult, RequestRejection> {
        guard let config = context.topics.config(topic) else {
            return .failure(RequestRejection(ResponseCode.topicNotExist, "topic[\(topic)] not exist"))
        }
        var entries: [TopicStatsBody.Entry] = []
        entries.reserveCapacity(config.writeQueueNums)
        do {
            for q in 0 ..< config.writeQueueNums {
                let key = QueueKey(topic: topic, queueId: Int32(q))
                let range = try context.store.queueRange(key) ?? QueueRange(min: 0, max: 0)
                let last = range.max > range.min
                    ? try context.store.entries(key, from: range.max - 1, maxCount: 1).first?.storeTimestamp ?? 0 : 0
                entries.append(.init(queue: MessageQueue(topic: topic, brokerName: context.config.brokerName, queueId: q),
                                     minOffset: range.min, maxOffset: range.max, lastUpdateTimestamp: last))
            }
        } catch {
            return .failure(RequestRejection(ResponseCode.systemError, "index read failed: \(error)"))
        }
        return .success(.topicStats(entries))
    }

    /// Messages ever indexed in the store's queues (sum of each queue's max offset).
    static func storedMessageCount(_ store: MessageStore) throws -> Int64 {
        try store.queues().values.reduce(0) { $0 + $1.max }
    }
}
