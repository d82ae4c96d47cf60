import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TernClient
import TernOps
import TernProtocol

/// The HTTP gateway on the broker's `httpPort`: send, long-poll receive, ack and nack over HTTP, as a RocketMQ
/// client of this process's own broker (RocketMQ's proxy does the same), so flow control, limits, ACL and the
/// group's consumer offsets are exactly a RocketMQ client's.
///
/// Delivery is at-least-once: a received message is invisible to other receives of its group for
/// `invisibleSeconds`, then delivered again unless acked; the group's committed offset advances over the
/// contiguous acknowledged prefix of each queue; a restarted gateway redelivers what was not acknowledged.
/// Routes: see ``GatewayRoutes`` and `/openapi.json`.
public final class HTTPGateway: OpsRoutes {
    public let config: GatewayConfig
    let clients: GatewayClients
    let logger: Logger
    private let groups = Mutex<[String: GroupConsumer]>([:])
    /// Group states kept at most; more distinct groups are refused (503) rather than grow without bound.
    static let maxGroups = 4096
    static let maxBatch = 1024

    public init(config: GatewayConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        clients = try GatewayClients(config: config, logger: logger)
    }

    /// Closes the gateway's broker connections.
    public func shutdown() {
        clients.shutdown()
    }

    public func register(on router: Router<BasicRequestContext>) {
        GatewayRoutes(gateway: self).register(on: router)
    }

    func groupConsumer(_ group: String) throws(GatewayError) -> GroupConsumer {
        let found: GroupConsumer? = groups.withLock { table in
            if let g = table[group] { return g }
            guard table.count < Self.maxGroups else { return nil }
            let g = GroupConsumer(group: group, config: config, logger: logger)
            table[group] = g
            return g
        }
        guard let found else {
            throw GatewayError(.serviceUnavailable, code: 14, "the gateway serves at most \(Self.maxGroups) groups")
        }
        return found
    }

    // MARK: Send

    func send(topic: String, _ message: OutgoingMessage, clients c: GatewayClients.Clients) async throws -> GatewayJSON.SendResultItem {
        let r = try await autoCreating(topic: topic, runtime: c.runtime) {
            let queue = try await shardQueue(topic: topic, key: message.shardingKey, runtime: c.runtime)
            return try await c.producer.send(topic: topic, body: message.body, tags: message.tags, keys: message.keys,
                                             properties: message.sendProperties, queue: queue)
        }
        return GatewayJSON.SendResultItem(msgId: r.uniqueKey ?? r.msgId, offsetMsgId: r.msgId, queueId: Int(r.queueId),
                                          queueOffset: r.queueOffset, status: r.status.rawValue)
    }

    /// A batch goes to one queue (consecutive offsets); the first message's sharding key chooses it.
    func sendBatch(topic: String, _ messages: [OutgoingMessage], clients c: GatewayClients.Clients) async throws -> GatewayJSON.BatchResult {
        let entries = messages.map {
            BatchEntry(body: $0.body, tags: $0.tags, keys: $0.keys, properties: $0.sendProperties)
        }
        let r = try await autoCreating(topic: topic, runtime: c.runtime) {
            let queue = try await shardQueue(topic: topic, key: messages.first?.shardingKey, runtime: c.runtime)
            return try await c.producer.sendBatch(topic: topic, messages: entries, queue: queue)
        }
        let ids = r.msgIds
        return GatewayJSON.BatchResult(messages: messages.indices.map { i in
            let id = i < ids.count ? ids[i] : r.msgId
            return GatewayJSON.SendResultItem(msgId: id, offsetMsgId: id, queueId: Int(r.queueId),
                                              queueOffset: r.queueOffset + Int64(i), status: r.status.rawValue)
        })
    }

    /// A topic the name servers do not know is sent to queue 0 of this process's broker over a route pinned for
    /// that one attempt, as RocketMQ producers fall back to TBW102's route: the broker creates the topic when
    /// `autoCreateTopicEnable` is on and answers TOPIC_NOT_EXIST (404) when it is off. Queue 0 exists however
    /// many queues the topic gets (or already has, when the broker created it and has not registered it yet).
    func autoCreating<T: Sendable>(topic: String, runtime: ClientRuntime, _ send: () async throws -> T) async throws -> T {
        do {
            return try await send()
        } catch ClientError.topicNotFound {
            runtime.pinRoute(topic: topic, brokerAddress: config.brokerAddress, brokerName: config.brokerName, queues: 1)
            defer { runtime.invalidateRoute(topic: topic) }
            return try await send()
        }
    }

    /// The queue of a sharding key: a stable hash (FNV-1a) over the topic's writable queues, so one key keeps
    /// one queue (and its order) while the topic's queues do not change. Nil key: round-robin.
    func shardQueue(topic: String, key: String?, runtime: ClientRuntime) async throws -> MessageQueue? {
        guard let key else { return nil }
        let queues = try await runtime.route(topic: topic).get().writeQueues
        guard !queues.isEmpty else { throw ClientError.noQueue(topic: topic, write: true) }
        return queues[Int(Self.fnv1a(key) % UInt64(queues.count))]
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}
