import Logging
import TernProtocol
import TernRemoting
import TernSystem

/// A heartbeat, whatever transport carried it: who the client is (id, the channel it came on, language and
/// version; the service stamps `lastUpdate`) and what it produces and consumes.
struct HeartbeatRequest: Sendable {
    var client: ClientRegistry.Client
    var data: HeartbeatData
}

/// A client leaving one producer and / or consumer group (UNREGISTER_CLIENT).
struct UnregisterRequest: Sendable {
    var channel: any ClientChannel
    var producerGroup: String?
    var consumerGroup: String?
}

/// Client membership: heartbeats register producers and consumers (creating the consumer groups' retry
/// topics), leaves and expiry remove them, and every consumer group whose membership or topics changed is
/// told (NOTIFY_CONSUMER_IDS_CHANGED, one-way, to each live member).
///
/// Thread-safety: every method may run on any thread; nothing blocks (topic creation writes topics.json
/// only when the retry topic is new).
final class ClientService: Sendable {
    /// A client silent this long is dropped (Java `channelExpiredTimeout`).
    static let clientExpiryMillis: Int64 = 120_000
    /// Silent clients are looked for this often.
    static let expiryScanPeriodMillis: Int64 = 10_000

    let context: BrokerContext
    var clients: ClientRegistry { context.clients }
    private let pulls: PullService

    init(context: BrokerContext, pulls: PullService) {
        self.context = context
        self.pulls = pulls
    }

    /// The broker clock's monotonic time in ms: heartbeat stamps, expiry and lock leases (intervals, never shown).
    var nowMillis: Int64 { Int64(context.clock.monotonicNanos() / 1_000_000) }

    /// Registers the heartbeat's groups; a SQL92 subscription that is not allowed or does not parse refuses
    /// the whole heartbeat (nothing registered).
    func heartbeat(_ request: HeartbeatRequest) -> RequestRejection? {
        if let r = pulls.rejectSubscriptions(request.data) { return r }
        var client = request.client
        client.lastUpdate = nowMillis
        for consumer in request.data.consumerDataSet where !consumer.groupName.isEmpty {
            do {
                try context.topics.createIfAbsent(SendService.retryTopicPrefix + consumer.groupName, queueNums: 1)
            } catch {
                context.logger.warning("cannot create retry topic", metadata: [
                    "group": "\(consumer.groupName)", "error": "\(error)"])
            }
            if clients.registerConsumer(consumer, client: client) { notifyConsumerIdsChanged(consumer.groupName) }
        }
        for producer in request.data.producerDataSet where !producer.groupName.isEmpty {
            clients.registerProducer(group: producer.groupName, client: client)
        }
        return nil
    }

    func unregister(_ request: UnregisterRequest) {
        if let group = request.producerGroup, !group.isEmpty {
            clients.unregisterProducer(group: group, channel: request.channel)
        }
        if let group = request.consumerGroup, !group.isEmpty,
           clients.unregisterConsumer(group: group, channel: request.channel) {
            notifyConsumerIdsChanged(group)
        }
    }

    /// The channel closed: its clients leave every group.
    func channelClosed(_ channel: any ClientChannel) {
        for group in clients.channelClosed(channel) { notifyConsumerIdsChanged(group) }
    }

    /// Drops clients silent for longer than `clientExpiryMillis` and closes their channels (as Java does).
    func removeExpiredClients() {
        let (groups, channels) = clients.removeExpired(now: nowMillis, maxIdleMillis: Self.clientExpiryMillis)
        for c in channels {
            context.logger.info("client heartbeat expired, closing", metadata: ["peer": "\(c.remoteAddress)"])
            c.close()
        }
        for group in groups { notifyConsumerIdsChanged(group) }
    }

    /// The expiry scan as a lifecycle service, every `expiryScanPeriodMillis` of the broker clock.
    func expiryService(events: LifecycleEvents?) -> TimerService {
        TimerService.periodic(name: "client-expiry", clock: context.clock, periodMillis: Self.expiryScanPeriodMillis,
                              events: events) { [self] in
            removeExpiredClients()
        }
    }

    /// NOTIFY_CONSUMER_IDS_CHANGED (40), one-way, to every channel left in the group.
    func notifyConsumerIdsChanged(_ group: String) {
        let notice = RemotingCommand(code: RequestCode.notifyConsumerIdsChanged, extFields: ["consumerGroup": group])
        for c in clients.consumerChannels(group: group) where c.isActive { c.sendOneway(notice) }
    }
}
