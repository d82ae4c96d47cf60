import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

enum ConsumeQueueQueryRequestCode {
    /// QUERY_CONSUME_QUEUE (`mqadmin queryCq`).
    static let queryConsumeQueue = 321
    /// Most entries one answer carries (Java stops at the end of one mapped consume-queue file).
    static let countMax = 1_000
}

/// Java's `QueryConsumeQueueResponseBody`. Tern has no consume-queue extension (`ConsumeQueueExt`), so every
/// entry carries the three stored fields only, as Java's do for queues without one.
struct QueryConsumeQueueResponseBody: Codable, Equatable {
    /// Java's `ConsumeQueueData` (`extendDataJson`, `bitMap`, `msg` stay null without an extension).
    struct ConsumeQueueData: Codable, Equatable {
        var physicOffset: Int64
        var physicSize: Int32
        var tagsCode: Int64
        var eval = false
    }
    var subscriptionData: SubscriptionData?
    var filterData: String?
    var queueData: [ConsumeQueueData]?
    var maxQueueIndex: Int64
    var minQueueIndex: Int64
}

extension AdminProcessor {
    /// QUERY_CONSUME_QUEUE: `count` entries of `queueId@topic` from `index`, plus the queue's bounds and, with a
    /// `consumerGroup`, that group's subscription to the topic (or "G@T is not online!"). Remarks as Java's.
    func queryConsumeQueue(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        let topic = f["topic"] ?? "", queueId = Int32(f["queueId"] ?? "") ?? -1
        let index = f.int64("index") ?? 0, count = min(max(Int(f["count"] ?? "") ?? 0, 0), ConsumeQueueQueryRequestCode.countMax)
        let key = QueueKey(topic: topic, queueId: queueId)
        do {
            guard let range = try context.store.queueRange(key) else {
                return responder.respond(code: ResponseCode.systemError, remark: "\(queueId)@\(topic) is not exist!")
            }
            var body = QueryConsumeQueueResponseBody(maxQueueIndex: range.max, minQueueIndex: range.min)
            if let group = f["consumerGroup"] {
                body.subscriptionData = context.clients.subscription(group: group, topic: topic)
                // Java: the group's ConsumerFilterData as JSON, "null" for a tag subscription (Tern keeps none).
                body.filterData = body.subscriptionData == nil ? "\(group)@\(topic) is not online!" : "null"
            }
            guard index >= range.min, index < range.max else {
                return responder.respond(code: ResponseCode.success, remark: "Index \(index) of \(queueId)@\(topic) is not exist!")
            }
            body.queueData = try context.store.entries(key, from: index, maxCount: count).map {
                .init(physicOffset: $0.physicalOffset, physicSize: $0.size, tagsCode: $0.tagCode)
            }
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(body))
        } catch {
            responder.respond(code: ResponseCode.systemError, remark: "index read failed: \(error)")
        }
    }
}
