import NIOConcurrencyHelpers
import TernProtocol
import TernRemoting

/// Clients known from heartbeats, per consumer group and per producer group, keyed by client id, each with the
/// channel its last heartbeat came on: a client that reconnects replaces its old channel, and the old channel
/// closing later removes nothing (removals by channel match the channel's id).
///
/// Every mutating call returns whether the group's membership (its clients and their channels) or, for
/// consumers, its subscribed topics changed; the caller then notifies the group (NOTIFY_CONSUMER_IDS_CHANGED).
/// Thread-safe: all state is behind one lock; nothing is sent while holding it.
final class ClientRegistry: Sendable {
    struct Client: Sendable {
        var clientId: String
        var channel: any ClientChannel
        var language: LanguageCode
        var version: Int
        /// Monotonic ms of the last heartbeat.
        var lastUpdate: Int64
    }

    struct ConsumerGroup: Sendable {
        /// By client id.
        var clients: [String: Client] = [:]
        var subscriptions: [String: SubscriptionData] = [:]
        var consumeType: ConsumeType = .consumePassively
        var messageModel: MessageModel = .clustering
        var consumeFromWhere: ConsumeFromWhere = .lastOffset
        var lastUpdate: Int64 = 0
    }

    private struct State {
        var consumers: [String: ConsumerGroup] = [:]
        /// Producer group → client id → client.
        var producers: [String: [String: Client]] = [:]
    }
    private let state = NIOLockedValueBox(State())

    // MARK: Registration

    /// Registers `client` in consumer group `data.groupName` and replaces the group's subscriptions with the
    /// heartbeat's. True when a client joined (or came back on another channel) or the subscribed topic set changed.
    @discardableResult
    func registerConsumer(_ data: ConsumerData, client: Client) -> Bool {
        state.withLockedValue { s in
            var g = s.consumers[data.groupName] ?? ConsumerGroup()
            let joined = g.clients[client.clientId]?.channel.id != client.channel.id
            g.clients[client.clientId] = client
            g.consumeType = data.consumeType
            g.messageModel = data.messageModel
            g.consumeFromWhere = data.consumeFromWhere
            g.lastUpdate = client.lastUpdate
            var subs: [String: SubscriptionData] = [:]
            for sub in data.subscriptionDataSet {
                // As Java: a subscription older than the one registered (another client's, or a late heartbeat)
                // does not replace it.
                if let old = g.subscriptions[sub.topic], old.subVersion > sub.subVersion {
                    subs[sub.topic] = old
                } else {
                    subs[sub.topic] = sub
                }
            }
            let topicsChanged = Set(subs.keys) != Set(g.subscriptions.keys)
            g.subscriptions = subs
            s.consumers[data.groupName] = g
            return joined || topicsChanged
        }
    }

    func registerProducer(group: String, client: Client) {
        state.withLockedValue { s in s.producers[group, default: [:]][client.clientId] = client }
    }

    /// Removes the clients on `channel` from consumer group `group`; true when one was a member.
    @discardableResult
    func unregisterConsumer(group: String, channel: any ClientChannel) -> Bool {
        state.withLockedValue { s in
            guard let g = s.consumers[group] else { return false }
            let kept = g.clients.filter { $0.value.channel.id != channel.id }
            guard kept.count < g.clients.count else { return false }
            s.consumers[group]?.clients = kept
            if kept.isEmpty { s.consumers.removeValue(forKey: group) }
            return true
        }
    }

    func unregisterProducer(group: String, channel: any ClientChannel) {
        state.withLockedValue { s in
            s.producers[group] = s.producers[group]?.filter { $0.value.channel.id != channel.id }
            if s.producers[group]?.isEmpty == true { s.producers.removeValue(forKey: group) }
        }
    }

    /// Removes the clients on `channel` everywhere; returns the consumer groups they left.
    func channelClosed(_ channel: any ClientChannel) -> [String] {
        remove { $0.channel.id == channel.id }.groups
    }

    /// Removes clients silent for longer than `maxIdleMillis` at monotonic time `now`; returns the consumer
    /// groups that lost members and the channels removed (the caller closes them, as Java does).
    func removeExpired(now: Int64, maxIdleMillis: Int64) -> (groups: [String], channels: [any ClientChannel]) {
        remove { now - $0.lastUpdate > maxIdleMillis }
    }

    private func remove(where predicate: (Client) -> Bool) -> (groups: [String], channels: [any ClientChannel]) {
        state.withLockedValue { s in
            var groups: [String] = []
            var removed: [Int: any ClientChannel] = [:]
            for (name, g) in s.consumers {
                let gone = g.clients.filter { predicate($0.value) }
                if gone.isEmpty { continue }
                groups.append(name)
                for (id, c) in gone {
                    removed[c.channel.id] = c.channel
                    s.consumers[name]?.clients.removeValue(forKey: id)
                }
                if s.consumers[name]?.clients.isEmpty == true { s.consumers.removeValue(forKey: name) }
            }
            for (name, clients) in s.producers {
                let kept = clients.filter { !predicate($0.value) }
                for c in clients.values where predicate(c) { removed[c.channel.id] = c.channel }
                s.producers[name] = kept.isEmpty ? nil : kept
            }
            return (groups.sorted(), Array(removed.values))
        }
    }

    // MARK: Queries

    /// Distinct client ids of the group, sorted; nil when the group has no client.
    func consumerIds(group: String) -> [String]? {
        state.withLockedValue { s in
            guard let g = s.consumers[group], !g.clients.isEmpty else { return nil }
            return Set(g.clients.values.map(\.clientId)).sorted()
        }
    }

    func consumerGroup(_ group: String) -> ConsumerGroup? { state.withLockedValue { $0.consumers[group] } }

    /// Groups with a client subscribed to `topic` (QUERY_TOPIC_CONSUME_BY_WHO).
    func consumerGroups(subscribing topic: String) -> [String] {
        state.withLockedValue { s in s.consumers.filter { $0.value.subscriptions[topic] != nil }.map(\.key) }
    }

    func consumerChannels(group: String) -> [any ClientChannel] {
        state.withLockedValue { s in s.consumers[group].map { $0.clients.values.map(\.channel) } ?? [] }
    }

    func subscription(group: String, topic: String) -> SubscriptionData? {
        state.withLockedValue { $0.consumers[group]?.subscriptions[topic] }
    }

    /// The live channel of the client with heartbeat id `clientId`, producers first (request / reply pushes).
    func channel(clientId: String) -> (any ClientChannel)? {
        state.withLockedValue { s in
            let producers = s.producers.values.lazy.compactMap { $0[clientId] }
            let consumers = s.consumers.values.lazy.compactMap { $0.clients[clientId] }
            return producers.first { $0.channel.isActive }?.channel ?? consumers.first { $0.channel.isActive }?.channel
        }
    }

    /// A producer group's clients (GET_PRODUCER_CONNECTION_LIST).
    func producerClients(group: String) -> [Client] {
        state.withLockedValue { s in s.producers[group].map { Array($0.values) } ?? [] }
    }

    /// Every producer group's clients (GET_ALL_PRODUCER_INFO).
    func allProducerClients() -> [String: [Client]] {
        state.withLockedValue { s in s.producers.mapValues { Array($0.values) } }
    }

    /// Live channels of a producer group (transaction check-backs go to one of them).
    func producerConnections(group: String) -> [any ClientChannel] {
        state.withLockedValue { s in (s.producers[group]?.values.map(\.channel) ?? []).filter(\.isActive) }
    }
}
