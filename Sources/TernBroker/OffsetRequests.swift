import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

/// Offset requests: QUERY/UPDATE_CONSUMER_OFFSET (14/15), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX/MIN_OFFSET
/// (30/31), GET_EARLIEST_MSG_STORETIME (32), GET_ALL_CONSUMER_OFFSET (43), GET_CONSUME_STATS (208).
extension ConsumerProcessor {
    func handleOffsetRequest(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        switch request.code {
        case RequestCode.getAllConsumerOffset: return allConsumerOffsets(responder)
        case ConsumerRequestCode.getConsumeStats: return consumeStats(f, responder)
        default: break
        }
        guard let topic = f.string("topic"), !topic.isEmpty, let queueId = f.int32("queueId") else {
            return responder.respond(code: ResponseCode.systemError, remark: "the custom field <topic> or <queueId> is null")
        }
        let queue = QueueKey(topic: topic, queueId: queueId)
        do {
            switch request.code {
            case RequestCode.queryConsumerOffset: try queryConsumerOffset(f, queue, responder)
            case RequestCode.updateConsumerOffset:
                guard let group = f.string("consumerGroup"), !group.isEmpty, let offset = f.int64("commitOffset") else {
                    return responder.respond(code: ResponseCode.systemError, remark: "the custom field <consumerGroup> or <commitOffset> is null")
                }
                offsets.commit(group: group, queue: queue, offset: offset)
                responder.respond(code: ResponseCode.success)
            case RequestCode.searchOffsetByTimestamp:
                let offset = try context.store.offset(forTimestamp: f.int64("timestamp") ?? 0, in: queue)
                respond(responder, "offset", offset)
            case RequestCode.getMaxOffset: respond(responder, "offset", try context.store.queueRange(queue)?.max ?? 0)
            case RequestCode.getMinOffset: respond(responder, "offset", try context.store.queueRange(queue)?.min ?? 0)
            case RequestCode.getEarliestMsgStoretime: respond(responder, "timestamp", try context.store.earliestStoreTime(queue))
            default: responder.respond(code: ResponseCode.requestCodeNotSupported, remark: " request type \(request.code) not supported")
            }
        } catch {
            responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
    }

    private func respond(_ responder: RemotingResponder, _ key: String, _ value: Int64) {
        var fields = RemotingExtFields()
        fields.set(key, value)
        responder.respond(code: ResponseCode.success, extFields: fields)
    }

    /// The committed offset; else 0 while the queue still starts at offset 0 (a new group then sees the
    /// messages already there, as RocketMQ 4.9 does for data in memory); else QUERY_NOT_FOUND.
    private func queryConsumerOffset(_ f: RemotingExtFields, _ queue: QueueKey, _ responder: RemotingResponder) throws {
        let group = f.string("consumerGroup") ?? ""
        if let offset = offsets.committed(group: group, queue: queue), offset >= 0 {
            return respond(responder, "offset", offset)
        }
        if (try context.store.queueRange(queue)?.min ?? 0) == 0 { return respond(responder, "offset", 0) }
        responder.respond(code: ResponseCode.queryNotFound, remark: "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")
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
        let committed = offsets.all().filter { $0.key.group == group }
        var topics: Set<String>
        if let topic = f.string("topic"), !topic.isEmpty {
            topics = [topic]
        } else {
            topics = Set(committed.keys.map(\.queue.topic))
            topics.formUnion(clients.consumerGroup(group)?.subscriptions.keys ?? [:].keys)
        }
        var entries: [ConsumeStatsBody.Entry] = []
        for topic in topics.sorted() {
            guard let config = context.topics.config(topic) else { continue }
            for id in 0..<max(config.readQueueNums, config.writeQueueNums) {
                let queue = QueueKey(topic: topic, queueId: Int32(id))
                let brokerOffset = (try? context.store.queueRange(queue))??.max ?? 0
                let consumerOffset = max(0, committed[ConsumerOffsetKey(group: group, queue: queue)] ?? 0)
                var last: Int64 = 0
                if consumerOffset > 0, let e = try? context.store.entries(queue, from: consumerOffset - 1, maxCount: 1).first {
                    last = e.storeTimestamp
                }
                entries.append(ConsumeStatsBody.Entry(topic: topic, brokerName: context.config.brokerName, queueId: id,
                                                      brokerOffset: brokerOffset, consumerOffset: consumerOffset,
                                                      lastTimestamp: last))
            }
        }
        let gets = context.flow.stats.getFigures(group: group, topic: f.string("topic").flatMap { $0.isEmpty ? nil : $0 })
        responder.respond(code: ResponseCode.success, extFields: context.flow.getStatsFields(gets),
                          body: JSONBody.encode(ConsumeStatsBody(offsetTable: entries, consumeTps: gets.tps)))
    }
}
