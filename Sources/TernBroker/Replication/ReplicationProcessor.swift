import TernProtocol
import TernRemoting
import TernTransport

/// What replicas ask their master: GET_BROKER_EPOCH_CACHE (1007), this broker's epoch history and log end
/// (and, on a master, its in-sync set), read before following (``Rejoin``) and by operators; and
/// GET_ALL_DELAY_OFFSET (45), the delay progress a slave copies.
struct ReplicationProcessor: BrokerProcessor {
    let context: BrokerContext
    var codes: [Int] { [RequestCode.getBrokerEpochCache, RequestCode.getAllDelayOffset] }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        switch request.code {
        case RequestCode.getAllDelayOffset:
            do {
                responder.respond(code: ResponseCode.success, body: JSONBody.encode(try DelayOffsetBody.current(context.store)))
            } catch {
                responder.respond(code: ResponseCode.systemError, remark: "\(error)")
            }
        default:
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(context.replication.epochCache()))
        }
    }
}
