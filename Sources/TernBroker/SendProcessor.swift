import NIOCore
import Synchronization
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
    /// The last topic and producer group decoded (a producer's sends repeat them).
    private let recentNames = SendRequestHeader.RecentNames()
    /// The last producer group found valid: the name check is a pure function of the name, and a producer's
    /// sends repeat it (the same String as `recentNames` returns, so the comparison is short).
    private let validGroup = Mutex<String?>(nil)

    /// Stops reading a sender's connection while the indexes lag too far behind the log.
    let backpressure: StoreBackpressure

    /// The shared name sets and the answer template (the config is fixed), held here: a global's lazy
    /// initialization check (`swift_once`) ran on every send for each.
    private let javaNames = SendRequestHeader.javaNames, shortNames = SendRequestHeader.shortNames
    private let answerTemplate: RemotingExtFields.Template

    init(context: BrokerContext) {
        self.context = context
        service = SendService(context: context)
        backpressure = StoreBackpressure(store: context.store)
        answerTemplate = context.config.traceOn ? Self.answer : Self.answerUntraced
    }

    func shutdown() { backpressure.stop() }

    var codes: [Int] { [RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage] }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let trace = SendTrace.start(responder.connection)
        // The header decoded straight into the request: a header built first and then stored in it was
        // copied (five references retained and released).
        var typed: SendRequest
        do {
            typed = SendRequest(header: try SendRequestHeader(request.extFields, names: request.code == RequestCode.sendMessage
                                                              ? javaNames : shortNames, recent: recentNames,
                                                              spareProperties: responder.connection.takeSpareBytes()),
                                isBatch: request.code == RequestCode.sendBatchMessage, body: request.body,
                                producerAddress: responder.connection.remoteAddress,
                                burst: BrokerMetering.burst(of: responder))
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: error.remark, extFields: [:])
        }
        typed.isBatch = typed.isBatch || typed.header.batch
        if validGroup.withLock({ $0 != typed.header.producerGroup }) {
            if GroupName.refuses(typed.header.producerGroup, responder) { return }
            validGroup.withLock { $0 = typed.header.producerGroup }
        }
        let outcome = service.send(typed)
        answer(outcome, responder: responder, trace: trace.map { ($0, PullTrace.now) })
        // The drafts are gone (stored or refused): the properties array is free for the connection's next send.
        responder.connection.keepSpareBytes(typed.header.properties)
    }

    /// Encodes `outcome` as the RocketMQ answer (after the flush when it awaits one), with the trace's stamps
    /// when tracing (the second value: when the append returned).
    private func answer(_ outcome: SendOutcome, responder: RemotingResponder, trace: (SendTrace, UInt64)?) {
        switch outcome {
        case let .rejected(rejection):
            responder.respond(code: rejection.code, remark: rejection.remark, extFields: [:])
        case let .duplicate(original):
            responder.respond(code: ResponseCode.success, extFields: fields(
                storeHost: original.storeHost, physicalOffset: original.physicalOffset,
                queueId: original.queueId, queueOffset: original.queueOffset))
        case let .stored(results, queueId, awaitsFlush):
            backpressure.pauseIfLagging(responder.connection)
            guard !responder.isOneway, let first = results.first, let last = results.last else { return }
            let storeHost = context.storeHost
            var fields = results.count == 1
                ? self.fields(storeHost: storeHost, physicalOffset: first.physicalOffset, queueId: queueId,
                              queueOffset: first.queueOffset)
                : self.fields(msgId: results.map { MessageId.offsetId(storeHost: storeHost, physicalOffset: $0.physicalOffset) }
                                  .joined(separator: ","), queueId: queueId, queueOffset: first.queueOffset)
            if let (trace, stored) = trace { trace.write(into: &fields, stored: stored) }
            guard awaitsFlush else {
                return responder.respond(code: ResponseCode.success, extFields: fields)
            }
            respondWhenStored(end: last.endOffset, fields: fields, responder: responder)
        }
    }

    /// A single message's answer: msgId (the offset message id: store host and physical offset), queueId,
    /// queueOffset, and Java's two constant-per-broker fields, from a shared table (no table or String per
    /// answer). TRACE_ON tells clients whether to trace (`traceOn`): one template per value.
    static let answer = template(traceOn: true)
    static let answerUntraced = template(traceOn: false)

    private static func template(traceOn: Bool) -> RemotingExtFields.Template {
        RemotingExtFields.Template([
            "msgId": .hex128(slot: 0), "queueId": .decimal(slot: 2), "queueOffset": .decimal(slot: 3),
            "MSG_REGION": .text("DefaultRegion"), "TRACE_ON": .text(traceOn ? "true" : "false"),
        ])
    }

    /// The answer's fields for one message at `physicalOffset`.
    func fields(storeHost: HostAddress, physicalOffset: Int64, queueId: Int32, queueOffset: Int64) -> RemotingExtFields {
        // MessageId.offsetId's 16 bytes: IPv4, port (4 bytes), physical offset (8 bytes).
        let ip = storeHost.ip
        let host = UInt64(ip.0) << 56 | UInt64(ip.1) << 48 | UInt64(ip.2) << 40 | UInt64(ip.3) << 32
            | UInt64(UInt32(bitPattern: storeHost.port))
        return RemotingExtFields(answerTemplate, words: host,
                                 UInt64(bitPattern: physicalOffset), UInt64(bitPattern: Int64(queueId)),
                                 UInt64(bitPattern: queueOffset))
    }

    /// A batch's answer fields (msgId: the ids joined with `,`).
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
