import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) as a remoting adapter: decode the
/// header → `SendService.send` → encode the answer (remoting.md §5.1, message-format.md §4-5).
///
/// Runs on the event loop for every message. Async flush answers inline; sync flush answers from the store's
/// group-commit callback. One-way requests are stored and never answered (the responder drops the answer, so
/// it is not even built).
final class SendProcessor: BrokerProcessor {
    let context: BrokerContext
    let service: SendService

    /// Stops reading a sender's connection while the indexes lag too far behind the log.
    let backpressure: StoreBackpressure

    init(context: BrokerContext) {
        self.context = context
        service = SendService(context: context)
        backpressure = StoreBackpressure(store: context.store)
    }

    func shutdown() { backpressure.stop() }

    var codes: [Int] { [RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage] }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let header: SendRequestHeader
        do {
            header = try SendRequestHeader(request.extFields, names: request.code == RequestCode.sendMessage
                                           ? SendRequestHeader.javaNames : SendRequestHeader.shortNames)
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: error.remark, extFields: [:])
        }
        if GroupName.refuses(header.producerGroup, responder) { return }
        let typed = SendRequest(header: header, isBatch: request.code == RequestCode.sendBatchMessage || header.batch,
                                body: request.body, producerAddress: responder.connection.remoteAddress)
        answer(service.send(typed), responder: responder)
    }

    /// Encodes `outcome` as the RocketMQ answer (after the flush when it awaits one).
    private func answer(_ outcome: SendOutcome, responder: RemotingResponder) {
        switch outcome {
        case let .rejected(rejection):
            responder.respond(code: rejection.code, remark: rejection.remark, extFields: [:])
        case let .duplicate(original):
            responder.respond(code: ResponseCode.success, extFields: fields(
                msgId: MessageId.offsetId(storeHost: original.storeHost, physicalOffset: original.physicalOffset),
                queueId: original.queueId, queueOffset: original.queueOffset))
        case let .stored(results, queueId, awaitsFlush):
            backpressure.pauseIfLagging(responder.connection)
            guard !responder.isOneway, let first = results.first, let last = results.last else { return }
            let storeHost = context.storeHost
            let msgId = results.count == 1
                ? MessageId.offsetId(storeHost: storeHost, physicalOffset: first.physicalOffset)
                : results.map { MessageId.offsetId(storeHost: storeHost, physicalOffset: $0.physicalOffset) }.joined(separator: ",")
            let fields = self.fields(msgId: msgId, queueId: queueId, queueOffset: first.queueOffset)
            guard awaitsFlush else {
                return responder.respond(code: ResponseCode.success, extFields: fields)
            }
            respondWhenStored(end: last.endOffset, fields: fields, responder: responder)
        }
    }

    /// The send answer's header fields; TRACE_ON tells clients whether to trace (`traceOn`).
    private func fields(msgId: String, queueId: Int32, queueOffset: Int64) -> RemotingExtFields {
        var fields = RemotingExtFields()
        fields.reserveCapacity(5)
        fields["msgId"] = msgId
        fields.set("queueId", queueId)
        fields.set("queueOffset", queueOffset)
        fields["MSG_REGION"] = "DefaultRegion"
        fields["TRACE_ON"] = context.config.traceOn ? "true" : "false"
        return fields
    }
}
