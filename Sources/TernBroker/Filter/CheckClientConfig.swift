import TernProtocol
import TernRemoting
import TernTransport

extension ConsumerProcessor {
    /// CHECK_CLIENT_CONFIG (46): TAG subscriptions pass; SQL92 needs `enablePropertyFilter` and must parse
    /// (SUBSCRIPTION_PARSE_FAILED with the parse error otherwise). Other types are refused.
    func checkClientConfig(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let body: CheckClientRequestBody
        do { body = try JSONBody.decode(CheckClientRequestBody.self, from: request.body) } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "bad CHECK_CLIENT_CONFIG body: \(error)")
        }
        guard let sub = body.subscriptionData, let type = sub.expressionType, type.uppercased() != "TAG" else {
            return responder.respond(code: ResponseCode.success)
        }
        guard PullService.isSQL92(type) else {
            return responder.respond(code: ResponseCode.systemError,
                                     remark: "The broker does not support consumer to filter message by \(type)")
        }
        let data = HeartbeatData(clientID: body.clientId ?? "", consumerDataSet: [
            ConsumerData(groupName: body.group ?? "", subscriptionDataSet: [sub]),
        ])
        if let r = pulls.rejectSubscriptions(data) { return responder.respond(code: r.code, remark: r.remark) }
        responder.respond(code: ResponseCode.success)
    }
}
