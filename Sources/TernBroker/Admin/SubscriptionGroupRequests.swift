import Logging
import NIOCore
import TernProtocol
import TernRemoting
import TernTransport

/// Subscription-group administration codes (Java's `RequestCode`).
enum SubscriptionGroupRequestCode {
    static let updateAndCreate = 200
    static let getAll = RequestCode.getAllSubscriptionGroupConfig
    static let delete = 207
    static let all = [updateAndCreate, getAll, delete]
}

extension AdminProcessor {
    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (body: a `SubscriptionGroupConfig`), GET_ALL_SUBSCRIPTIONGROUP_CONFIG
    /// (answer: `SubscriptionGroupWrapper`), DELETE_SUBSCRIPTIONGROUP (`groupName`, `removeOffset`: also every
    /// committed offset of the group, answered once they are deleted). A slave refuses changes, as Java's
    /// `validateSlave` does.
    func subscriptionGroupRequest(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let groups = context.groups
        if request.code != SubscriptionGroupRequestCode.getAll, context.config.brokerRole == .slave {
            return responder.respond(code: ResponseCode.systemError,
                                     remark: "Can't modify topic or subscription group from slave broker.")
        }
        switch request.code {
        case SubscriptionGroupRequestCode.updateAndCreate:
            let config: SubscriptionGroupConfig
            do { config = try JSONBody.decode(SubscriptionGroupConfig.self, from: request.body) } catch {
                return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
            }
            guard !config.groupName.isEmpty else {
                return responder.respond(code: ResponseCode.systemError, remark: "the subscription group needs a groupName")
            }
            groups.update(config)
            context.logger.info("subscription group created or updated", metadata: ["group": "\(config.groupName)"])
            responder.respond(code: ResponseCode.success)
        case SubscriptionGroupRequestCode.delete:
            guard let name = request.extFields["groupName"], !name.isEmpty else {
                return responder.respond(code: ResponseCode.systemError, remark: "DELETE_SUBSCRIPTIONGROUP needs the field groupName")
            }
            if groups.delete(name) { context.logger.info("subscription group deleted", metadata: ["group": "\(name)"]) }
            guard request.extFields.bool("removeOffset") == true else { return responder.respond(code: ResponseCode.success) }
            context.offsets.remove(group: name) { removed in
                if removed { return responder.respond(code: ResponseCode.success) }
                responder.respond(code: ResponseCode.systemError, remark: "the consumer offsets of group \(name) could not be removed")
            }
        default:
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(groups.all))
        }
    }
}
