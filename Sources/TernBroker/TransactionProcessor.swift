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

    /// The remoting adapter: fields → `EndTransactionRequest` → `TransactionService.end` → response once the
    /// outcome is durable (one-way requests, as C++ sends them, get none).
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        guard context.config.brokerId == 0 else {
            return responder.respond(code: ResponseCode.slaveNotAvailable, remark: "Transaction request to a slave broker")
        }
        let end: EndTransactionRequest
        switch EndTransactionRequest.parse(request.extFields) {
        case let .failure(r): return responder.respond(code: r.code, remark: r.remark)
        case .success(nil): return
        case let .success(typed?): end = typed
        }
        switch service.end(halfOffset: end.halfOffset, queueOffset: end.queueOffset, producerGroup: end.producerGroup,
                           outcome: end.outcome) {
        case let .failure(error):
            context.logger.info("END_TRANSACTION refused", metadata: [
                "offset": "\(end.halfOffset)", "fromCheck": "\(end.fromCheck)", "reason": "\(error.remark)"])
            responder.respond(code: ResponseCode.systemError, remark: error.remark)
        case let .success(endOffset):
            guard !responder.isOneway else { return }
            context.store.whenDurable(endOffset) { outcome in
                switch outcome {
                case .durable: responder.respond(code: ResponseCode.success)
                case .timedOut: responder.respond(code: ResponseCode.flushDiskTimeout)
                case let .failed(why): responder.respond(code: ResponseCode.systemError, remark: "flush to disk failed: \(why)")
                }
            }
        }
    }
}
