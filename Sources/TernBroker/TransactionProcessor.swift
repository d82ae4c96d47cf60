import Logging
import TernMessage
import TernRemoting
import TernStorage
import TernTransport

/// END_TRANSACTION (37) and the transaction check-back scan (features.md §2, remoting.md §5.1).
final class TransactionProcessor: BrokerProcessor {
    let context: BrokerContext
    let service: TransactionService

    init(context: BrokerContext) {
        self.context = context
        service = TransactionService(context: context)
    }

    var codes: [Int] { [RequestCode.endTransaction] }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let f = request.extFields
        guard context.config.brokerId == 0 else {
            return responder.respond(code: ResponseCode.slaveNotAvailable, remark: "Transaction request to a slave broker")
        }
        guard let kind = f.int64("commitOrRollback") else {
            return responder.respond(code: ResponseCode.systemError, remark: "the custom field <commitOrRollback> is missing")
        }
        let outcome: TransactionService.Outcome
        switch Int32(truncatingIfNeeded: kind) {
        case SysFlag.transactionNot: return  // unknown: wait for the check-back; Java answers nothing
        case SysFlag.transactionCommit: outcome = .commit
        case SysFlag.transactionRollback: outcome = .rollback
        default:
            return responder.respond(code: ResponseCode.systemError, remark: "commitOrRollback \(kind) is not 0, 8 or 12")
        }
        guard let halfOffset = f.int64("commitLogOffset"), let queueOffset = f.int64("tranStateTableOffset") else {
            return responder.respond(code: ResponseCode.systemError, remark: "commitLogOffset and tranStateTableOffset are required")
        }
        let group = f.string("producerGroup") ?? ""
        switch service.end(halfOffset: halfOffset, queueOffset: queueOffset, producerGroup: group, outcome: outcome) {
        case let .failure(error):
            context.logger.info("END_TRANSACTION refused", metadata: [
                "offset": "\(halfOffset)", "fromCheck": "\(f.bool("fromTransactionCheck") ?? false)", "reason": "\(error.remark)"])
            responder.respond(code: ResponseCode.systemError, remark: error.remark)
        case let .success(end):
            guard !responder.isOneway else { return }
            context.store.whenDurable(end) { outcome in
                switch outcome {
                case .durable: responder.respond(code: ResponseCode.success)
                case .timedOut: responder.respond(code: ResponseCode.flushDiskTimeout)
                case let .failed(why): responder.respond(code: ResponseCode.systemError, remark: "flush to disk failed: \(why)")
                }
            }
        }
    }
}
