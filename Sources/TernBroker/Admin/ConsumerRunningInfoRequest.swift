import NIOCore
import TernRemoting
import TernTransport

enum ConsumerRunningInfoRequestCode {
    static let getConsumerRunningInfo = 307
    /// Java's `Broker2Client.callClient` wait.
    static let clientTimeout: TimeAmount = .seconds(10)
}

extension AdminProcessor {
    /// GET_CONSUMER_RUNNING_INFO (Java's `callConsumer`): forwarded as is to the consumer `clientId` of
    /// `consumerGroup`, whose answer (a `ConsumerRunningInfo` body) goes back unchanged (mqadmin consumerStatus).
    /// The event loop never waits: the answer is relayed when the client's arrives.
    func consumerRunningInfo(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let group = request.extFields["consumerGroup"] ?? "", clientId = request.extFields["clientId"] ?? ""
        guard let client = context.clients.consumerGroup(group)?.clients[clientId], client.channel.isActive else {
            return responder.respond(code: ResponseCode.systemError, remark: "The Consumer <\(group)> <\(clientId)> not online")
        }
        let forward = RemotingCommand(code: request.code, extFields: request.extFields, body: request.body)
        client.channel.request(forward, timeout: ConsumerRunningInfoRequestCode.clientTimeout).whenComplete { result in
            switch result {
            case .success(let answer):
                responder.respond(code: answer.code, remark: answer.remark, extFields: answer.extFields, body: answer.body)
            case .failure(let error):
                responder.respond(code: ResponseCode.consumeMsgTimeout, remark: "consumer <\(group)> <\(clientId)> Timeout: \(error)")
            }
        }
    }
}
