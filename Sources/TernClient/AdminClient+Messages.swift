import NIOCore
import TernProtocol
import TernRemoting

extension AdminClient {
    /// Java's `MixAll.TOOLS_CONSUMER_GROUP`: the group mqadmin's message commands pull as (a broker knows it
    /// from the start, so pulls work with `autoCreateSubscriptionGroup=false` too).
    public static let toolsConsumerGroup = "TOOLS_CONSUMER"

    private var toolsConsumer: PullConsumer { PullConsumer(runtime: runtime, group: Self.toolsConsumerGroup) }

    /// queryMsgByOffset: the message at `offset` of `queue`, by one PULL_MESSAGE (11) of at most one message
    /// with subscription "*" and no suspend or commit, as Java's `DefaultMQPullConsumer.pull(mq, "*", offset, 1)`;
    /// nil when the queue holds none there.
    public func message(queue: MessageQueue, offset: Int64) async throws -> ReceivedMessage? {
        let r = try await toolsConsumer.pull(queue: queue, offset: offset, maxNums: 1)
        return r.status == .found ? r.messages.first { $0.queueOffset == offset } : nil
    }

    /// One queue's walk by ``printMessages(topic:subscription:begin:end:_:)``.
    public struct QueueRange: Sendable, Equatable {
        public var queue: MessageQueue
        public var minOffset: Int64
        public var maxOffset: Int64
    }

    /// printMsg: every message of `topic` matching `subscription`, queue by queue, from the queue's min offset
    /// (or the first stored at or after `begin`, ms) up to its max offset (or the first stored at or after
    /// `end`), 32 per pull: GET_MIN_OFFSET (31) / GET_MAX_OFFSET (30) / SEARCH_OFFSET_BY_TIMESTAMP (29), then
    /// PULL_MESSAGE (11), as Java's PrintMessageSubCommand. `visit` sees each queue's range, then its messages.
    public func printMessages(topic: String, subscription: String = "*", begin: Int64? = nil, end: Int64? = nil,
                              _ visit: (QueueRange, [ReceivedMessage]) throws -> Void) async throws {
        let consumer = toolsConsumer
        for queue in try await consumer.queues(topic: topic) {
            var range = QueueRange(queue: queue, minOffset: try await consumer.minOffset(queue: queue),
                                   maxOffset: try await consumer.maxOffset(queue: queue))
            if let begin { range.minOffset = try await consumer.offset(queue: queue, forTimestamp: begin) }
            if let end { range.maxOffset = try await consumer.offset(queue: queue, forTimestamp: end) }
            try visit(range, [])
            var offset = range.minOffset
            while offset < range.maxOffset {
                let r = try await consumer.pull(queue: queue, offset: offset, subscription: subscription)
                if r.status == .found { try visit(range, r.messages.filter { $0.queueOffset < range.maxOffset }) }
                guard r.status == .found || r.status == .noMatchedMessage, r.nextBeginOffset > offset else { break }
                offset = r.nextBeginOffset
            }
        }
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO (300) on every master of `topic`: the groups subscribed to it or holding
    /// offsets on it, sorted.
    public func consumerGroups(topic: String) async throws -> [String] {
        var groups: Set<String> = []
        var f = RemotingExtFields()
        f["topic"] = topic
        for address in try await runtime.route(topic: topic).get().data.brokerDatas.compactMap(\.masterAddress) {
            let r = try await runtime.invoke(address, runtime.makeRequest(code: 300, extFields: f)).get()
            groups.formUnion(try JSONBody.decode(GroupListWire.self, from: r.expectSuccess(from: address).body).groupList)
        }
        return groups.sorted()
    }
}

/// Java's `GroupList` as it arrives.
private struct GroupListWire: Decodable {
    var groupList: [String]
}
