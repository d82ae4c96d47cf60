import Logging
import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// Request codes served here that `RequestCode` does not name.
enum AdminRequestCode {
    static let getBrokerRuntimeInfo = 28
    static let getTopicStatsInfo = 202
    static let deleteTopicInBroker = 215
}

/// Query by key / unique key / commit-log offset, and topic administration (remoting.md §5.3).
///
/// Queries read the mapped log (zero-copy views) and copy the matching records once into the response body.
/// Topic changes go through `TopicConfigManager`, which persists them and triggers re-registration.
final class AdminProcessor: BrokerProcessor {
    let context: BrokerContext
    /// Messages in the store's queues when the broker started: `msgPutTotalTodayNow` counts from here, as
    /// Java's put counter counts from process start.
    private let messagesAtStart: Int64

    init(context: BrokerContext) {
        self.context = context
        messagesAtStart = (try? Self.storedMessageCount(context.store)) ?? 0
    }

    var codes: [Int] {
        [RequestCode.queryMessage, RequestCode.viewMessageById, RequestCode.updateAndCreateTopic,
         AdminRequestCode.deleteTopicInBroker, RequestCode.getAllTopicConfig, AdminRequestCode.getTopicStatsInfo,
         AdminRequestCode.getBrokerRuntimeInfo]
    }

    /// Longest answer to QUERY_MESSAGE (Java `maxMsgsNumBatch`), and the unique-key query size.
    static let queryMaxNum = 64
    static let uniqueKeyQueryNum = 32

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let f = request.extFields
        switch request.code {
        case RequestCode.queryMessage: queryMessage(f, responder)
        case RequestCode.viewMessageById: viewMessage(f, responder)
        case RequestCode.updateAndCreateTopic: createTopic(f, responder)
        case AdminRequestCode.deleteTopicInBroker: deleteTopic(f, responder)
        case RequestCode.getAllTopicConfig:
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(context.topics.all))
        case AdminRequestCode.getTopicStatsInfo: topicStats(f, responder)
        case AdminRequestCode.getBrokerRuntimeInfo: runtimeInfo(responder)
        default:
            responder.respond(code: ResponseCode.requestCodeNotSupported, remark: " request type \(request.code) not supported")
        }
    }

    // MARK: Queries

    private func queryMessage(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let topic = f["topic"], let key = f["key"] else {
            return responder.respond(code: ResponseCode.systemError, remark: "QUERY_MESSAGE needs the fields topic and key")
        }
        let begin = f.int64("beginTimestamp") ?? 0
        let end = f.int64("endTimestamp") ?? .max
        let unique = f.bool("_UNIQUE_KEY_QUERY") ?? false
        let limit = unique ? Self.uniqueKeyQueryNum : min(max(Int(f.int64("maxNum") ?? 32), 1), Self.queryMaxNum)
        let found: [StoredMessage]
        do {
            if unique {
                // The unique-key index is not topic-scoped; Java's (topic#key) is: keep this topic's records in range.
                found = try context.store.lookup(uniqueKey: key, limit: limit).filter { m in
                    let r = m.record
                    return r.topic.elementsEqual(topic.utf8) && r.storeTimestamp >= begin && r.storeTimestamp <= end
                }
            } else {
                found = try context.store.lookup(topic: topic, key: key, beginTimestamp: begin, endTimestamp: end, limit: limit)
            }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "index lookup failed: \(error)")
        }
        var fields = RemotingExtFields()
        let (updateOffset, updateTime) = indexPosition()
        fields.set("indexLastUpdateTimestamp", updateTime)
        fields.set("indexLastUpdatePhyoffset", updateOffset)
        guard !found.isEmpty else {
            return responder.respond(code: ResponseCode.queryNotFound, remark: "can not find message, maybe time range not correct",
                                     extFields: fields)
        }
        responder.respond(code: ResponseCode.success, extFields: fields, body: Self.concatenate(found))
    }

    /// Where the indexes stand: the log offset they cover and the store time of the last record they cover.
    private func indexPosition() -> (offset: Int64, timestamp: Int64) {
        guard let cp = try? context.store.indexCheckpoint() else { return (context.store.dispatchedOffset, 0) }
        let time = cp.lastRecord >= 0 ? context.store.message(at: cp.lastRecord)?.record.storeTimestamp ?? 0 : 0
        return (cp.offset, time)
    }

    private func viewMessage(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let offset = f.int64("offset") else {
            return responder.respond(code: ResponseCode.systemError, remark: "VIEW_MESSAGE_BY_ID needs the field offset")
        }
        guard let m = context.store.message(at: offset) else {
            return responder.respond(code: ResponseCode.systemError, remark: "can not find message by the offset, \(offset)")
        }
        responder.respond(code: ResponseCode.success, body: Self.concatenate([m]))
    }

    static func concatenate(_ messages: [StoredMessage]) -> ByteBuffer {
        var body = ByteBufferAllocator().buffer(capacity: messages.reduce(0) { $0 + $1.size })
        for m in messages { body.writeBytes(m.bytes) }
        return body
    }

    // MARK: Topics

    /// Why `topic` may not be created or deleted by an admin; nil when it may.
    static func refusedTopicReason(_ topic: String) -> String? {
        if let why = TopicConfigManager.invalidTopicReason(topic) { return why }
        if TopicConfigManager.reservedTopics.contains(topic) || topic == TopicConfigManager.autoCreateTopicKey {
            return "The topic[\(topic)] is conflict with system topic."
        }
        return nil
    }

    private func createTopic(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let topic = f["topic"] else {
            return responder.respond(code: ResponseCode.systemError, remark: "UPDATE_AND_CREATE_TOPIC needs the field topic")
        }
        if let why = Self.refusedTopicReason(topic) { return responder.respond(code: ResponseCode.systemError, remark: why) }
        let read = Int(f.int64("readQueueNums") ?? 16), write = Int(f.int64("writeQueueNums") ?? 16)
        let perm = Int(f.int64("perm") ?? Int64(Perm.readWrite))
        guard read >= 0, write >= 0, read <= Self.maxQueueNums, write <= Self.maxQueueNums else {
            return responder.respond(code: ResponseCode.systemError,
                                     remark: "queue counts must be within 0...\(Self.maxQueueNums): read \(read), write \(write)")
        }
        let config = TopicConfig(topicName: topic, readQueueNums: read, writeQueueNums: write, perm: perm,
                                 topicFilterType: f["topicFilterType"] ?? "SINGLE_TAG",
                                 topicSysFlag: Int(f.int64("topicSysFlag") ?? 0), order: f.bool("order") ?? false)
        do {
            try context.topics.update(config)
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
        context.logger.info("topic created or updated", metadata: ["topic": "\(topic)", "read": "\(read)", "write": "\(write)", "perm": "\(perm)"])
        responder.respond(code: ResponseCode.success)
    }

    /// Upper bound on an admin-set queue count (each queue is a consume-queue range in the index).
    static let maxQueueNums = 1024

    private func deleteTopic(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let topic = f["topic"] else {
            return responder.respond(code: ResponseCode.systemError, remark: "DELETE_TOPIC_IN_BROKER needs the field topic")
        }
        if let why = Self.refusedTopicReason(topic) { return responder.respond(code: ResponseCode.systemError, remark: why) }
        do {
            // Only the config goes: the log keeps the records until retention removes them.
            if try context.topics.delete(topic) {
                context.logger.info("topic deleted", metadata: ["topic": "\(topic)"])
            }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
        responder.respond(code: ResponseCode.success)
    }

    private func topicStats(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let topic = f["topic"] else {
            return responder.respond(code: ResponseCode.systemError, remark: "GET_TOPIC_STATS_INFO needs the field topic")
        }
        guard let config = context.topics.config(topic) else {
            return responder.respond(code: ResponseCode.topicNotExist, remark: "topic[\(topic)] not exist")
        }
        var entries: [TopicStatsBody.Entry] = []
        entries.reserveCapacity(config.writeQueueNums)
        do {
            for q in 0 ..< config.writeQueueNums {
                let key = QueueKey(topic: topic, queueId: Int32(q))
                let range = try context.store.queueRange(key) ?? QueueRange(min: 0, max: 0)
                let last = range.max > range.min
                    ? try context.store.entries(key, from: range.max - 1, maxCount: 1).first?.storeTimestamp ?? 0 : 0
                entries.append(.init(brokerName: context.config.brokerName, queueId: q, minOffset: range.min,
                                     maxOffset: range.max, lastUpdateTimestamp: last))
            }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "index read failed: \(error)")
        }
        responder.respond(code: ResponseCode.success, extFields: context.flow.putStatsFields(topic: topic),
                          body: JSONBody.encode(TopicStatsBody(offsetTable: entries)))
    }

    // MARK: Runtime figures

    static let versionDesc = "V4_9_7"

    private func runtimeInfo(_ responder: RemotingResponder) {
        let store = context.store
        let stored = (try? Self.storedMessageCount(store)) ?? messagesAtStart
        let table: [String: String] = [
            "brokerVersionDesc": Self.versionDesc,
            "brokerVersion": String(RemotingCommand.defaultVersion),
            "msgPutTotalTodayNow": String(max(0, stored - messagesAtStart)),
            "commitLogMaxOffset": String(store.maxPhysicalOffset),
            "commitLogMinOffset": String(store.minPhysicalOffset),
            "dispatchBehindBytes": String(max(0, store.maxPhysicalOffset - store.dispatchedOffset)),
        ]
        responder.respond(code: ResponseCode.success, body: JSONBody.encode(BrokerRuntimeInfoBody(table: table)))
    }

    /// Messages ever indexed in the store's queues (sum of each queue's max offset).
    static func storedMessageCount(_ store: MessageStore) throws -> Int64 {
        try store.queues().values.reduce(0) { $0 + $1.max }
    }
}
