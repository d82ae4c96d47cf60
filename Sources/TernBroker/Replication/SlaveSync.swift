import Logging
import TernProtocol
import TernRemoting
import TernStorage

/// A slave's copy of its master's metadata (RocketMQ's `SlaveSynchronize`): every `periodMillis`, and as soon
/// as a registration answer names the master, it reads GET_ALL_TOPIC_CONFIG (21), GET_ALL_CONSUMER_OFFSET (43),
/// GET_ALL_DELAY_OFFSET (45) and GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) from the master's broker port and applies
/// them, so a promoted slave serves the offsets and group settings its consumers had on the master.
///
/// Topic and subscription-group tables are adopted whole when they differ from the master's. Consumer offsets
/// are committed as the master has them. Delay progress is derived from the replicated log on a Tern slave; the
/// master's table (an Apache master's delivered copies carry no Tern mark) only ever moves a level forward.
struct SlaveSync {
    static let periodMillis: Int64 = 10_000
    /// Until a registration answer names the master.
    static let unknownMasterRetryMillis: Int64 = 1_000

    let context: BrokerContext

    func service(events: LifecycleEvents?) -> TimerService {
        TimerService(name: "slave-sync", clock: context.clock, events: events, step: { now in
            guard let master = context.replication.masterBrokerAddress else { return now + Self.unknownMasterRetryMillis }
            await syncAll(from: master)
            return now + Self.periodMillis
        }, onStop: { context.replication.masterClient.close() })
    }

    /// One round; each table independently (a failure is logged and retried next round).
    func syncAll(from master: String) async {
        let client = context.replication.masterClient
        do {
            let topics = try JSONBody.decode(TopicConfigSerializeWrapper.self,
                                             from: try await client.call(RequestCode.getAllTopicConfig, to: master).body)
            context.topics.adoptMasterTable(topics)
            let offsets = try JSONBody.decode(ConsumerOffsetSerializeWrapper.self,
                                              from: try await client.call(RequestCode.getAllConsumerOffset, to: master).body)
            applyConsumerOffsets(offsets)
            let delays = try JSONBody.decode(DelayOffsetBody.self,
                                             from: try await client.call(RequestCode.getAllDelayOffset, to: master).body)
            try applyDelayOffsets(delays)
            let groups = try JSONBody.decode(SubscriptionGroupWrapper.self,
                                             from: try await client.call(RequestCode.getAllSubscriptionGroupConfig, to: master).body)
            context.groups.adoptMasterTable(groups)
        } catch {
            context.logger.info("slave metadata sync failed", metadata: ["master": "\(master)", "error": "\(error)"])
        }
    }

    /// `"topic@group" → {queueId: offset}` (RocketMQ's `ConsumerOffsetManager.offsetTable`).
    private func applyConsumerOffsets(_ wrapper: ConsumerOffsetSerializeWrapper) {
        for (topicAtGroup, queues) in wrapper.offsetTable {
            guard let at = topicAtGroup.firstIndex(of: "@") else { continue }
            // Delay progress has its own table (45) and rule.
            let topic = String(topicAtGroup[..<at]), group = String(topicAtGroup[topicAtGroup.index(after: at)...])
            if group == DelayedDelivery.progressGroup { continue }
            for (queueId, offset) in queues {
                guard let id = Int32(queueId) else { continue }
                let queue = QueueKey(topic: topic, queueId: id)
                if context.offsets.committed(group: group, queue: queue) != offset {
                    context.offsets.commit(group: group, queue: queue, offset: offset)
                }
            }
        }
    }

    private func applyDelayOffsets(_ body: DelayOffsetBody) throws {
        for (level, offset) in body.offsetTable {
            guard let queue = DelayOffsetBody.queue(level: level) else { continue }
            let current = try context.store.consumerOffset(group: DelayedDelivery.progressGroup, queue: queue) ?? 0
            if offset > current {
                try context.store.commitConsumerOffset(group: DelayedDelivery.progressGroup, queue: queue, offset: offset)
            }
        }
    }
}

/// GET_ALL_DELAY_OFFSET (45)'s body, RocketMQ's `delayOffset.json`: delay level (1-based) → the offset of its
/// `SCHEDULE_TOPIC_XXXX` queue (queue id = level - 1) delivered so far.
struct DelayOffsetBody: Codable, Equatable {
    var offsetTable: [String: Int64]

    static func queue(level: String) -> QueueKey? {
        guard let n = Int32(level), n >= 1 else { return nil }
        return QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: n - 1)
    }

    /// This store's delay progress.
    static func current(_ store: MessageStore) throws -> DelayOffsetBody {
        var table: [String: Int64] = [:]
        for (key, offset) in try store.consumerOffsets()
        where key.group == DelayedDelivery.progressGroup && key.queue.topic == DelayedDelivery.scheduleTopic {
            table[String(key.queue.queueId + 1)] = offset
        }
        return DelayOffsetBody(offsetTable: table)
    }
}
