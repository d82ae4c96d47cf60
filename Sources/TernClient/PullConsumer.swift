import TernProtocol
import NIOCore
import TernRemoting

/// How a pull ended (RocketMQ's `PullStatus`).
public enum PullStatus: String, Sendable {
    /// Code 0: messages in the body.
    case found = "FOUND"
    /// Code 19: nothing at or after the offset.
    case noNewMessage = "NO_NEW_MSG"
    /// Code 20: messages exist but none matched the subscription; continue at `nextBeginOffset`.
    case noMatchedMessage = "NO_MATCHED_MSG"
    /// Code 21: the offset is out of range; continue at `nextBeginOffset`.
    case offsetIllegal = "OFFSET_ILLEGAL"
}

public struct PullResult: Sendable {
    public var status: PullStatus
    public var nextBeginOffset: Int64
    public var minOffset: Int64
    public var maxOffset: Int64
    public var suggestWhichBrokerId: Int64
    /// Decoded messages (empty when the pull asked not to decode).
    public var messages: [ReceivedMessage]
    /// Number of records in the body (also set without decoding).
    public var messageCount: Int
    /// Size of the body: the stored records as sent by the broker.
    public var bodyBytes: Int
}

/// Pulls from explicit queues and offsets, and manages a group's offsets on the broker. No rebalancing:
/// the caller chooses the queues (``queues(topic:)`` lists them).
public final class PullConsumer: Sendable {
    public let runtime: ClientRuntime
    public let group: String

    public init(runtime: ClientRuntime, group: String) {
        self.runtime = runtime
        self.group = group
    }

    /// Readable queues of `topic` from its route.
    public func queues(topic: String) async throws -> [MessageQueue] {
        let queues = try await runtime.route(topic: topic).get().readQueues
        guard !queues.isEmpty else { throw ClientError.noQueue(topic: topic, write: false) }
        return queues
    }

    // MARK: - Pull

    public func pull(queue: MessageQueue, offset: Int64, maxNums: Int = 32, subscription: String = "*",
                     suspendMillis: Int64 = 0, commitOffset: Int64? = nil, decode: Bool = true) async throws -> PullResult {
        try await pullFuture(queue: queue, offset: offset, maxNums: maxNums, subscription: subscription,
                             suspendMillis: suspendMillis, commitOffset: commitOffset, decode: decode).get()
    }

    /// PULL_MESSAGE (11) to the queue's master. `suspendMillis` > 0 asks the broker to hold the request until a
    /// message arrives or the time passes (long polling); the call's timeout covers that plus the request timeout.
    /// `commitOffset` piggy-backs an offset commit. `decode` false leaves ``PullResult/messages`` empty (counts
    /// only; cheaper for load tests).
    public func pullFuture(queue: MessageQueue, offset: Int64, maxNums: Int = 32, subscription: String = "*",
                           suspendMillis: Int64 = 0, commitOffset: Int64? = nil,
                           decode: Bool = true) -> EventLoopFuture<PullResult> {
        let request = pullRequest(queue: queue, offset: offset, maxNums: maxNums, subscription: subscription,
                                  suspendMillis: suspendMillis, commitOffset: commitOffset)
        return runtime.masterAddress(of: queue).flatMap { address in
            self.runtime.invoke(address, request, timeout: self.pullTimeout(suspendMillis: suspendMillis)).flatMapThrowing {
                try Self.pullResult(of: $0, address: address, decode: decode)
            }
        }
    }

    /// The PULL_MESSAGE (11) request ``pullFuture(queue:offset:maxNums:subscription:suspendMillis:commitOffset:decode:)``
    /// sends: for tools that send it themselves to read the raw answer (`tern-bench e2e` reads the broker's
    /// trace fields), with ``pullTimeout(suspendMillis:)`` and ``pullResult(of:address:decode:)``.
    public func pullRequest(queue: MessageQueue, offset: Int64, maxNums: Int = 32, subscription: String = "*",
                            suspendMillis: Int64 = 0, commitOffset: Int64? = nil) -> RemotingCommand {
        let sysFlag = Self.pullSysFlag(suspendMillis: suspendMillis, commit: commitOffset != nil)
        var f = RemotingExtFields()
        f.reserveCapacity(11)
        f["consumerGroup"] = group
        f["topic"] = queue.topic
        f.set("queueId", queue.queueId)
        f.set("queueOffset", offset)
        f.set("maxMsgNums", maxNums)
        f.set("sysFlag", sysFlag)
        f.set("commitOffset", commitOffset ?? 0)
        f.set("suspendTimeoutMillis", max(0, suspendMillis))
        f["subscription"] = subscription
        f.set("subVersion", 0)
        f["expressionType"] = "TAG"
        return runtime.makeRequest(code: RequestCode.pullMessage, extFields: f)
    }

    /// How long a pull held up to `suspendMillis` may take: the hold plus the request timeout.
    public func pullTimeout(suspendMillis: Int64) -> TimeAmount {
        runtime.options.requestTimeout + .milliseconds(max(0, suspendMillis))
    }

    /// A pull answer as a result; throws ``ClientError/response(code:remark:address:)`` for codes that are not
    /// pull outcomes. `decode` false counts the records without decoding them.
    public static func pullResult(of response: RemotingCommand, address: String, decode: Bool) throws -> PullResult {
        let status: PullStatus
        switch response.code {
        case ResponseCode.success: status = .found
        case ResponseCode.pullNotFound: status = .noNewMessage
        case ResponseCode.pullRetryImmediately: status = .noMatchedMessage
        case ResponseCode.pullOffsetMoved: status = .offsetIllegal
        default: throw ClientError.response(code: response.code, remark: response.remark, address: address)
        }
        var result = PullResult(
            status: status, nextBeginOffset: try response.requiredInt64("nextBeginOffset"),
            minOffset: response.extFields.int64("minOffset") ?? 0, maxOffset: response.extFields.int64("maxOffset") ?? 0,
            suggestWhichBrokerId: response.extFields.int64("suggestWhichBrokerId") ?? 0,
            messages: [], messageCount: 0, bodyBytes: response.body?.readableBytes ?? 0)
        if status == .found {
            if decode {
                result.messages = try RecordDecoder.messages(in: response.body)
                result.messageCount = result.messages.count
            } else {
                result.messageCount = try RecordDecoder.count(in: response.body)
            }
        }
        return result
    }

    // MARK: - Offsets

    /// QUERY_CONSUMER_OFFSET (14): the group's committed offset, or nil when none is stored (QUERY_NOT_FOUND).
    public func committedOffset(queue: MessageQueue) async throws -> Int64? {
        let (address, response) = try await queueRequest(RequestCode.queryConsumerOffset, queue, withGroup: true)
        if response.code == ResponseCode.queryNotFound { return nil }
        return try response.expectSuccess(from: address).requiredInt64("offset")
    }

    /// UPDATE_CONSUMER_OFFSET (15), as a request (answered) so failures are seen.
    public func commitOffset(queue: MessageQueue, offset: Int64) async throws {
        let (address, response) = try await queueRequest(RequestCode.updateConsumerOffset, queue, withGroup: true) {
            $0.set("commitOffset", offset)
        }
        _ = try response.expectSuccess(from: address)
    }

    /// GET_MAX_OFFSET (30): the next offset to be written (= message count of the queue).
    public func maxOffset(queue: MessageQueue) async throws -> Int64 {
        try await offsetQuery(RequestCode.getMaxOffset, queue, field: "offset")
    }

    /// GET_MIN_OFFSET (31): the oldest offset still stored.
    public func minOffset(queue: MessageQueue) async throws -> Int64 {
        try await offsetQuery(RequestCode.getMinOffset, queue, field: "offset")
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29): the first offset stored at or after `timestamp` (ms).
    public func offset(queue: MessageQueue, forTimestamp timestamp: Int64) async throws -> Int64 {
        try await offsetQuery(RequestCode.searchOffsetByTimestamp, queue, field: "offset") { $0.set("timestamp", timestamp) }
    }

    /// GET_EARLIEST_MSG_STORETIME (32): store time (ms) of the oldest message of the queue.
    public func earliestStoreTime(queue: MessageQueue) async throws -> Int64 {
        try await offsetQuery(RequestCode.getEarliestMsgStoretime, queue, field: "timestamp")
    }

    private func offsetQuery(_ code: Int, _ queue: MessageQueue, field: String,
                             _ extra: (inout RemotingExtFields) -> Void = { _ in }) async throws -> Int64 {
        let (address, response) = try await queueRequest(code, queue, withGroup: false, extra)
        return try response.expectSuccess(from: address).requiredInt64(field)
    }

    private func queueRequest(_ code: Int, _ queue: MessageQueue, withGroup: Bool,
                              _ extra: (inout RemotingExtFields) -> Void = { _ in }) async throws -> (String, RemotingCommand) {
        var f = RemotingExtFields()
        if withGroup { f["consumerGroup"] = group }
        f["topic"] = queue.topic
        f.set("queueId", queue.queueId)
        extra(&f)
        let address = try await runtime.masterAddress(of: queue).get()
        let response = try await runtime.invoke(address, runtime.makeRequest(code: code, extFields: f)).get()
        return (address, response)
    }
}
