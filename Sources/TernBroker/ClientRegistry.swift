import NIOConcurrencyHelpers
import TernProtocol
import TernRemoting
import TernTransport

/// Clients known from heartbeats, per consumer group and per producer group, keyed by connection (as Java keys
/// by channel): one client id may appear on several connections until the old one closes or expires.
///
/// Every mutating call returns whether the group's membership (its set of connections) or, for consumers,
/// its subscribed topics changed; the caller then notifies the group (NOTIFY_CONSUMER_IDS_CHANGED).
/// Thread-safe: all state is behind one lock; nothing is sent while holding it.
final class ClientRegistry: Sendable {
    struct Client: Sendable {
        var clientId: String
        var connection: RemotingConnection
        var language: LanguageCode
        var version: Int
        /// Monotonic ms of the last heartbeat.
        var lastUpdate: Int64
    }

    struct ConsumerGroup: Sendable {
        var clients: [Int: Client] = [:]
        var subscriptions: [String: SubscriptionData] = [:]
        var consumeType: ConsumeType = .consumePassively
        var messageModel: MessageModel = .clustering
        var consumeFromWhere: ConsumeFromWhere = .lastOffset
        var lastUpdate: Int64 = 0
    }

    private struct State {
        var consumers: [String: ConsumerGroup] = [:]
        var producers: [String: [Int: Client]] = [:]
    }
    private let state = NIOLockedValueBox(State())

    // MARK: Registration

    /// Registers `client` in consumer group `data.groupName` and replaces the group's subscriptions with the
    /// heartbeat's. True when a new connection joined or the subscribed topic set changed.
    @discardableResult
    func registerConsumer(_ data: ConsumerData, client: Client) -> Bool {
        state.withLockedValue { s in
            var g = s.consumers[data.groupName] ?? ConsumerGroup()
            let joined = g.clients[client.connection.id] == nil
            g.clients[client.connection.id] = client
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
        state.withLockedValue { s in s.producers[group, default: [:]][client.connection.id] = client }
    }

    /// Removes `connection` from consumer group `group`; true when it was a member.
    @discardableResult
    func unregisterConsumer(group: String, connection: RemotingConnection) -> Bool {
        state.withLockedValue { s in
            guard s.consumers[group]?.clients.removeValue(forKey: connection.id) != nil else { return false }
            if s.consumers[group]?.clients.isEmpty == true { s.consumers.removeValue(forKey: group) }
            return true
        }
    }

    func unregisterProducer(group: String, connection: RemotingConnection) {
        state.withLockedValue { s in
            s.producers[group]?.removeValue(forKey: connection.id)
            if s.producers[group]?.isEmpty == true { s.producers.removeValue(forKey: group) }
        }
    }

    /// Removes `connection` everywhere; returns the consumer groups it left.
    func connectionClosed(_ connection: RemotingConnection) -> [String] {
        remove { $0.connection.id == connection.id }.groups
    }

    /// Removes clients silent for longer than `maxIdleMillis` at monotonic time `now`; returns the consumer
    /// groups that lost members and the connections removed (the caller closes them, as Java does).
    func removeExpired(now: Int64, maxIdleMillis: Int64) -> (groups: [String], connections: [RemotingConnection]) {
        remove { now - $0.lastUpdate > maxIdleMillis }
    }

    private func remove(where predicate: (Client) -> Bool) -> (groups: [String], connections: [RemotingConnection]) {
        state.withLockedValue { s in
            var groups: [String] = []
            var removed: [Int: RemotingConnection] = [:]
            for (name, g) in s.consumers {
                let gone = g.clients.values.filter(predicate)
                if gone.isEmpty { continue }
                groups.append(name)
                for c in gone {
                    removed[c.connection.id] = c.connection
                    s.consumers[name]?.clients.removeValue(forKey: c.connection.id)
                }
                if s.consumers[name]?.clients.isEmpty == true { s.consumers.removeValue(forKey: name) }
            }
            for (name, clients) in s.producers {
                let kept = clients.filter { !predicate($0.value) }
                for c in clients.values where predicate(c) { removed[c.connection.id] = c.connection }
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

    func consumerConnections(group: String) -> [RemotingConnection] {
        state.withLockedValue { s in s.consumers[group].map { $0.clients.values.map(\.connection) } ?? [] }
    }

    func subscription(group: String, topic: String) -> SubscriptionData? {
        state.withLockedValue { $0.consumers[group]?.subscriptions[topic] }
    }

    /// A live connection of the client with heartbeat id `clientId`, producers first (request / reply pushes).
    func connection(clientId: String) -> RemotingConnection? {
        state.withLockedValue { s in
            let producers = s.producers.values.lazy.flatMap(\.values)
            let consumers = s.consumers.values.lazy.flatMap(\.clients.values)
            return producers.first { $0.clientId == clientId && $0.connection.isActive }?.connection
                ?? consumers.first { $0.clientId == clientId && $0.connection.isActive }?.connection
        }
    }

    /// Live connections of a producer group (transaction check-backs go to one of them).
    func producerConnections(group: String) -> [RemotingConnection] {
        state.withLockedValue { s in (s.producers[group]?.values.map(\.connection) ?? []).filter(\.isActive) }
    }
}
