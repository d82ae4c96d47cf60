import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

/// Offset requests: QUERY/UPDATE_CONSUMER_OFFSET (14/15), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX/MIN_OFFSET
/// (30/31), GET_EARLIEST_MSG_STORETIME (32), GET_ALL_CONSUMER_OFFSET (43), GET_CONSUME_STATS (208). The remoting
/// adapter: fields → `OffsetRequest` → `OffsetService.answer` → response.
extension ConsumerProcessor {
    func handleOffsetRequest(_ request: RemotingCommand, _ responder: RemotingResponder) {
        switch request.code {
        case RequestCode.getAllConsumerOffset: return allConsumerOffsets(responder)
        case ConsumerRequestCode.getConsumeStats: return consumeStats(request.extFields, responder)
        default: break
        }
        let typed: OffsetRequest
        switch Self.offsetRequest(request.code, request.extFields) {
        case let .failure(r): return responder.respond(code: r.code, remark: r.remark)
        case let .success(t): typed = t
        }
        var fields = RemotingExtFields()
        do {
            switch try offsets.answer(typed) {
            case let .offset(offset): fields.set("offset", offset)
            case let .timestampMillis(millis): fields.set("timestamp", millis)
            case .committed: break
            case .noCommittedOffset:
                return responder.respond(code: ResponseCode.queryNotFound,
                                         remark: "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")
            }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
        responder.respond(code: ResponseCode.success, extFields: fields)
    }

    /// The typed request of an offset code; SYSTEM_ERROR naming the missing field as RocketMQ does.
    static func offsetRequest(_ code: Int, _ f: RemotingExtFields) -> Result<OffsetRequest, RequestRejection> {
        guard let topic = f.string("topic"), !topic.isEmpty, let queueId = f.int32("queueId") else {
            return .failure(RequestRejection(ResponseCode.systemError, "the custom field <topic> or <queueId> is null"))
        }
        let queue = QueueKey(topic: topic, queueId: queueId)
        switch code {
        case RequestCode.queryConsumerOffset: return .success(.committed(group: f.string("consumerGroup") ?? "", queue: queue))
        case RequestCode.updateConsumerOffset:
            guard let group = f.string("consumerGroup"), !group.isEmpty, let offset = f.int64("commitOffset") else {
                return .failure(RequestRejection(ResponseCode.systemError,
                                                 "the custom field <consumerGroup> or <commitOffset> is null"))
            }
            return .success(.commit(group: group, queue: queue, offset: offset))
        case RequestCode.searchOffsetByTimestamp: return .success(.offsetAt(queue: queue, timestampMillis: f.int64("timestamp") ?? 0))
        case RequestCode.getMaxOffset: return .success(.maxOffset(queue))
        case RequestCode.getMinOffset: return .success(.minOffset(queue))
        case RequestCode.getEarliestMsgStoretime: return .success(.earliestStoreTime(queue))
        default: return .failure(RequestRejection(ResponseCode.requestCodeNotSupported, " request type \(code) not supported"))
        }
    }

    private func allConsumerOffsets(_ responder: RemotingResponder) {
        var table: [String: [String: Int64]] = [:]
        for (key, offset) in offsets.all() {
            table["\(key.queue.topic)@\(key.group)", default: [:]][String(key.queue.queueId)] = offset
        }
        responder.respond(code: ResponseCode.success, body: JSONBody.encode(ConsumerOffsetSerializeWrapper(offsetTable: table)))
    }

    /// Per queue of the group's topics (or the one asked for): max offset, committed offset, last consumed time.
    private func consumeStats(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let group = f.string("consumerGroup"), !group.isEmpty else {
            return responder.respond(code: ResponseCode.systemError, remark: "the custom field <consumerGroup> is null")
        }
        let committed = offsets.all(group: group)
        var topics: Set<String>
        if let topic = f.string("topic"), !topic.isEmpty {
            topics = [topic]
        } else {
            topics = Set(committed.keys.map(\.queue.topic))
            topics.formUnion(clients.consumerGroup(group)?.subscriptions.keys ?? [:].keys)
        }
        let entries = topics.sorted().flatMap { ConsumeStatsQuery.entries(context, group: group, topic: $0, committed: committed) }
        let gets = context.flow.stats.getFigures(group: group, topic: f.string("topic").flatMap { $0.isEmpty ? nil : $0 })
        responder.respond(code: ResponseCode.success, extFields: context.flow.getStatsFields(gets),
                          body: ConsumeStatsBody(offsetTable: entries, consumeTps: gets.tps).encoded())
    }
}
