import Logging
import NIOConcurrencyHelpers
import NIOCore
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// Request codes served here that `RequestCode` does not name.
enum ConsumerRequestCode {
    static let getConsumerConnectionList = 203
    static let getConsumeStats = 208
}

/// The consumer side of the broker: client registry (heartbeats, NOTIFY_CONSUMER_IDS_CHANGED), pulls with long
/// polling, consumer offsets and queue locks. Offsets are in OffsetRequests.swift, locks in LockRequests.swift,
/// pulls in PullService.swift / PullLongPolling.swift.
final class ConsumerProcessor: BrokerProcessor {
    /// A client silent this long is dropped (Java `channelExpiredTimeout`), checked every `expiryScanPeriod`.
    static let clientExpiryMillis: Int64 = 120_000
    static let expiryScanPeriod = TimeAmount.seconds(10)
    static let retryTopicPrefix = "%RETRY%"

    let context: BrokerContext
    var clients: ClientRegistry { context.clients }
    var offsets: OffsetService { context.offsets }
    let locks: LockManager
    let pulls: PullService
    private let expiryTask = NIOLockedValueBox<RepeatedTask?>(nil)

    init(context: BrokerContext) {
        self.context = context
        locks = LockManager(leaseMillis: context.config.lockMaxLiveTimeMillis)
        pulls = PullService(context: context, clients: context.clients, offsets: context.offsets)
        let task = context.group.next().scheduleRepeatedTask(initialDelay: Self.expiryScanPeriod, delay: Self.expiryScanPeriod) {
            [weak self] _ in self?.removeExpiredClients()
        }
        expiryTask.withLockedValue { $0 = task }
    }

    var codes: [Int] {
        [RequestCode.pullMessage, RequestCode.heartBeat, RequestCode.unregisterClient, RequestCode.getConsumerListByGroup,
         ConsumerRequestCode.getConsumerConnectionList,
         RequestCode.queryConsumerOffset, RequestCode.updateConsumerOffset, RequestCode.searchOffsetByTimestamp,
         RequestCode.getMaxOffset, RequestCode.getMinOffset, RequestCode.getEarliestMsgStoretime,
         RequestCode.getAllConsumerOffset, ConsumerRequestCode.getConsumeStats,
         RequestCode.lockBatchMQ, RequestCode.unlockBatchMQ, RequestCode.checkClientConfig]
    }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        switch request.code {
        case RequestCode.pullMessage: pulls.handle(request, responder: responder)
        case RequestCode.heartBeat: heartbeat(request, responder)
        case RequestCode.unregisterClient: unregister(request, responder)
        case RequestCode.getConsumerListByGroup: consumerList(request, responder)
        case ConsumerRequestCode.getConsumerConnectionList: connectionList(request, responder)
        case RequestCode.lockBatchMQ: lockBatch(request, responder)
        case RequestCode.unlockBatchMQ: unlockBatch(request, responder)
        case RequestCode.checkClientConfig: checkClientConfig(request, responder)
        default: handleOffsetRequest(request, responder)
        }
    }

    func connectionClosed(_ connection: RemotingConnection) {
        pulls.connectionClosed(connection)
        for group in clients.channelClosed(connection) { notifyConsumerIdsChanged(group) }
    }

    func shutdown() {
        expiryTask.withLockedValue { $0?.cancel(); $0 = nil }
        pulls.shutdown()
    }

    static func nowMillis() -> Int64 { Int64(Clock.monotonicNanos() / 1_000_000) }

    // MARK: Client registry

    private func heartbeat(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let data: HeartbeatData
        do { data = try JSONBody.decode(HeartbeatData.self, from: request.body) } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
        if let r = pulls.rejectSubscriptions(data) { return responder.respond(code: r.code, remark: r.remark) }
        let connection = responder.connection
        let client = ClientRegistry.Client(clientId: data.clientID.isEmpty ? connection.remoteAddress : data.clientID,
                                           channel: connection, language: request.language,
                                           version: request.version, lastUpdate: Self.nowMillis())
        for consumer in data.consumerDataSet where !consumer.groupName.isEmpty {
            do {
                try context.topics.createIfAbsent(Self.retryTopicPrefix + consumer.groupName, queueNums: 1)
            } catch {
                context.logger.warning("cannot create retry topic", metadata: ["group": "\(consumer.groupName)", "error": "\(error)"])
            }
            if clients.registerConsumer(consumer, client: client) { notifyConsumerIdsChanged(consumer.groupName) }
        }
        for producer in data.producerDataSet where !producer.groupName.isEmpty {
            clients.registerProducer(group: producer.groupName, client: client)
        }
        responder.respond(code: ResponseCode.success)
    }

    private func unregister(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        if let group = f.string("producerGroup"), !group.isEmpty {
            clients.unregisterProducer(group: group, channel: responder.connection)
        }
        if let group = f.string("consumerGroup"), !group.isEmpty,
           clients.unregisterConsumer(group: group, channel: responder.connection) {
            notifyConsumerIdsChanged(group)
        }
        responder.respond(code: ResponseCode.success)
    }

    private func removeExpiredClients() {
        let (groups, channels) = clients.removeExpired(now: Self.nowMillis(), maxIdleMillis: Self.clientExpiryMillis)
        for c in channels {
            context.logger.info("client heartbeat expired, closing", metadata: ["peer": "\(c.remoteAddress)"])
            c.close()
        }
        for group in groups { notifyConsumerIdsChanged(group) }
    }

    /// NOTIFY_CONSUMER_IDS_CHANGED (40), one-way, to every connection left in the group.
    func notifyConsumerIdsChanged(_ group: String) {
        let notice = RemotingCommand(code: RequestCode.notifyConsumerIdsChanged, extFields: ["consumerGroup": group])
        for c in clients.consumerChannels(group: group) where c.isActive { c.sendOneway(notice) }
    }

    private func consumerList(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let group = request.extFields.string("consumerGroup") ?? ""
        guard let ids = clients.consumerIds(group: group) else {
            return responder.respond(code: ResponseCode.systemError, remark: "no consumer for this group, \(group)")
        }
        responder.respond(code: ResponseCode.success, body: JSONBody.encode(ConsumerListBody(consumerIdList: ids)))
    }

    private func connectionList(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let group = request.extFields.string("consumerGroup") ?? ""
        guard let g = clients.consumerGroup(group), !g.clients.isEmpty else {
            return responder.respond(code: ResponseCode.consumerNotOnline, remark: "the consumer group[\(group)] not online")
        }
        let connections = g.clients.values.map {
            ConsumerConnectionBody.Connection(clientId: $0.clientId, clientAddr: $0.channel.remoteAddress,
                                              language: $0.language.name, version: $0.version)
        }.sorted { ($0.clientId, $0.clientAddr) < ($1.clientId, $1.clientAddr) }
        let body = ConsumerConnectionBody(connectionSet: connections, subscriptionTable: g.subscriptions,
                                          consumeType: g.consumeType, messageModel: g.messageModel,
                                          consumeFromWhere: g.consumeFromWhere)
        responder.respond(code: ResponseCode.success, body: JSONBody.encode(body))
    }
}
