import Logging
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

/// The consumer side of the broker as remoting adapters: heartbeats and leaves (ClientService), pulls with long
/// polling, consumer offsets (OffsetService; adapter in OffsetRequests.swift) and queue locks. Locks are in
/// LockRequests.swift, pulls in PullService.swift / PullLongPolling.swift. The client-expiry scan is a lifecycle
/// service (`ClientService.expiryService`), started by the broker, not here.
final class ConsumerProcessor: BrokerProcessor {
    let context: BrokerContext
    var clients: ClientRegistry { context.clients }
    var offsets: OffsetService { context.offsets }
    let locks: LockManager
    let pulls: PullService
    let clientService: ClientService

    init(context: BrokerContext) {
        self.context = context
        locks = LockManager(leaseMillis: context.config.lockMaxLiveTimeMillis)
        pulls = PullService(context: context, clients: context.clients, offsets: context.offsets)
        clientService = ClientService(context: context, pulls: pulls)
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
        if GroupName.refuses(headerOf: request, responder) { return }
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
        pulls.channelClosed(connection)
        clientService.channelClosed(connection)
    }

    func shutdown() {
        pulls.shutdown()
    }

    // MARK: Client registry (remoting adapter of ClientService)

    private func heartbeat(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let data: HeartbeatData
        do { data = try JSONBody.decode(HeartbeatData.self, from: request.body) } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
        if GroupName.refuses(data, responder) { return }
        let connection = responder.connection
        let client = ClientRegistry.Client(clientId: data.clientID.isEmpty ? connection.remoteAddress : data.clientID,
                                           channel: connection, language: request.language, version: request.version,
                                           lastUpdate: 0)
        let typed = HeartbeatRequest(client: client, data: data)
        if let r = clientService.heartbeat(typed) { return responder.respond(code: r.code, remark: r.remark) }
        responder.respond(code: ResponseCode.success)
    }

    private func unregister(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        clientService.unregister(UnregisterRequest(channel: responder.connection, producerGroup: f.string("producerGroup"),
                                                   consumerGroup: f.string("consumerGroup")))
        responder.respond(code: ResponseCode.success)
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
