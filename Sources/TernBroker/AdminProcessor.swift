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
    static let getBrokerConfig = 26
    static let getBrokerRuntimeInfo = 28
    static let getTopicStatsInfo = 202
    static let deleteTopicInBroker = 215
}

/// Query by key / unique key / commit-log offset, and the remoting adapter of `AdminService` (topic
/// administration, topic stats, runtime info), remoting.md §5.3.
///
/// Queries read the mapped log (zero-copy views) and copy the matching records once into the response body.
final class AdminProcessor: BrokerProcessor {
    let context: BrokerContext
    let service: AdminService

    init(context: BrokerContext) {
        self.context = context
        service = AdminService(context: context)
    }

    var codes: [Int] {
        [RequestCode.queryMessage, RequestCode.viewMessageById, RequestCode.updateAndCreateTopic,
         AdminRequestCode.deleteTopicInBroker, RequestCode.getAllTopicConfig, AdminRequestCode.getTopicStatsInfo,
         AdminRequestCode.getBrokerRuntimeInfo, AdminRequestCode.getBrokerConfig, ResetOffsetRequestCode.invokeBrokerToResetOffset]
            + SubscriptionGroupRequestCode.all + GroupAdminRequestCode.all + BrokerStatsRequestCode.all
            + [ConsumerRunningInfoRequestCode.getConsumerRunningInfo, ConsumeQueueQueryRequestCode.queryConsumeQueue]
    }

    /// Longest answer to QUERY_MESSAGE (Java `maxMsgsNumBatch`), and the unique-key query size.
    static let queryMaxNum = 64
    static let uniqueKeyQueryNum = 32

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let f = request.extFields
        switch request.code {
        case RequestCode.queryMessage: return queryMessage(f, responder)
        case RequestCode.viewMessageById: return viewMessage(f, responder)
        case ResetOffsetRequestCode.invokeBrokerToResetOffset: return resetOffset(f, responder)
        case let code where GroupAdminRequestCode.all.contains(code): return groupAdminRequest(request, responder)
        case let code where SubscriptionGroupRequestCode.all.contains(code): return subscriptionGroupRequest(request, responder)
        case let code where BrokerStatsRequestCode.all.contains(code): return brokerStatsRequest(request, responder)
        case ConsumerRunningInfoRequestCode.getConsumerRunningInfo: return consumerRunningInfo(request, responder)
        case ConsumeQueueQueryRequestCode.queryConsumeQueue: return queryConsumeQueue(f, responder)
        default: break
        }
        let typed: AdminRequest
        switch Self.adminRequest(request.code, f) {
        case .failure(let r): return responder.respond(code: r.code, remark: r.remark)
        case .success(let t): typed = t
        }
        switch service.answer(typed) {
        case .failure(let r):
            responder.respond(code: r.code, remark: r.remark)
        case .success(.done):
            responder.respond(code: ResponseCode.success)
        case .success(.topics(let all)):
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(all))
        case .success(.topicStats(let entries)):
            guard case .topicStats(let topic) = typed else { preconditionFailure("topic stats answer a topic stats request") }
            responder.respond(code: ResponseCode.success, extFields: context.flow.putStatsFields(topic: topic),
                              body: TopicStatsBody(offsetTable: entries).encoded())
        case .success(.runtimeInfo(let table)):
            responder.respond(code: ResponseCode.success, body: KVTableBody(table: table).encoded())
        case .success(.brokerConfig(let text, let version)):
            var fields = RemotingExtFields()
            fields["version"] = version
            responder.respond(code: ResponseCode.success, extFields: fields, body: ByteBuffer(string: text))
        }
    }

    /// The typed request of an admin code; SYSTEM_ERROR naming the missing field.
    static func adminRequest(_ code: Int, _ f: RemotingExtFields) -> Result<AdminRequest, RequestRejection> {
        func topic(_ name: String) -> Result<String, RequestRejection> {
            guard let topic = f["topic"] else { return .failure(RequestRejection(ResponseCode.systemError, "\(name) needs the field topic")) }
            return .success(topic)
        }
        switch code {
        case RequestCode.updateAndCreateTopic:
            return topic("UPDATE_AND_CREATE_TOPIC").map { topic in
                .createTopic(TopicConfig(topicName: topic, readQueueNums: Int(f.int64("readQueueNums") ?? 16),
                                         writeQueueNums: Int(f.int64("writeQueueNums") ?? 16),
                                         perm: Int(f.int64("perm") ?? Int64(Perm.readWrite)),
                                         topicFilterType: f["topicFilterType"] ?? "SINGLE_TAG",
                                         topicSysFlag: Int(f.int64("topicSysFlag") ?? 0), order: f.bool("order") ?? false))
            }
        case AdminRequestCode.deleteTopicInBroker: return topic("DELETE_TOPIC_IN_BROKER").map { .deleteTopic($0) }
        case RequestCode.getAllTopicConfig: return .success(.allTopics)
        case AdminRequestCode.getTopicStatsInfo: return topic("GET_TOPIC_STATS_INFO").map { .topicStats($0) }
        case AdminRequestCode.getBrokerRuntimeInfo: return .success(.runtimeInfo)
        case AdminRequestCode.getBrokerConfig: return .success(.brokerConfig)
        default: return .failure(RequestRejection(ResponseCode.requestCodeNotSupported, " request type \(code) not supported"))
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
}
