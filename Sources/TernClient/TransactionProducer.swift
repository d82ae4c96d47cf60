import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport

/// What the local transaction decided (Java `LocalTransactionState`).
public enum LocalTransactionState: String, Sendable {
    case commit = "COMMIT_MESSAGE"
    case rollback = "ROLLBACK_MESSAGE"
    case unknown = "UNKNOW"

    /// END_TRANSACTION's `commitOrRollback` (transaction type bits).
    var code: Int32 {
        switch self {
        case .commit: SysFlag.transactionCommit
        case .rollback: SysFlag.transactionRollback
        case .unknown: SysFlag.transactionNot
        }
    }
}

public struct TransactionSendResult: Sendable {
    /// The half message's send result (msgId = its offset id, queueOffset = its half-queue offset).
    public var sendResult: SendResult
    public var localState: LocalTransactionState
}

/// Transactional producer (features.md §2): sends a half message, runs the local transaction, ends it with
/// END_TRANSACTION (one-way, as Java and C++ do), and answers the broker's CHECK_TRANSACTION_STATE for its
/// group with `checkLocalTransaction`. Heartbeats its group to each broker it sends to, so the broker knows
/// where to send check-backs. Call ``close()`` to stop answering checks.
public final class TransactionProducer: Sendable {
    public let producer: Producer
    public var runtime: ClientRuntime { producer.runtime }
    public var group: String { producer.options.group }

    public init(runtime: ClientRuntime, options: ProducerOptions = ProducerOptions(),
                checkLocalTransaction: @escaping @Sendable (ReceivedMessage) async -> LocalTransactionState) {
        producer = Producer(runtime: runtime, options: options)
        let group = options.group
        runtime.inbound.setChecker(group: group) { request, message, connection in
            Task {
                let state = await checkLocalTransaction(message)
                let f = request.extFields
                guard let halfOffset = f.int64("commitLogOffset"), let queueOffset = f.int64("tranStateTableOffset") else { return }
                connection.sendOneway(Self.endTransaction(runtime, group: group, halfOffset: halfOffset, queueOffset: queueOffset,
                                                          uniqueKey: f["msgId"] ?? "", state: state, fromCheck: true))
            }
        }
    }

    public func close() { runtime.inbound.setChecker(group: group, nil) }

    /// Sends the half message, runs `execute` (a thrown error counts as `.unknown`, as in Java), then ends
    /// the transaction with its answer. `.unknown` leaves the decision to the check-back.
    public func send(topic: String, body: [UInt8], tags: String? = nil, keys: [String] = [],
                     properties: [String: String] = [:], queue: MessageQueue? = nil,
                     execute: @Sendable (SendResult) async throws -> LocalTransactionState) async throws -> TransactionSendResult {
        var props = properties
        props[MessageProperties.transactionPrepared] = "true"
        props[MessageProperties.producerGroup] = group
        var send = try producer.prepareSingle(topic: topic, body: ByteBuffer(bytes: body), tags: tags, keys: keys,
                                              properties: props, flag: 0)
        send.sysFlag |= SysFlag.transactionPrepared
        let result = try await producer.dispatch(send, fixedQueue: queue).get()
        let address = try await runtime.masterAddress(of: result.queue).get()
        try await runtime.heartbeats.ensure(runtime, address: address, group: group).get()
        let state: LocalTransactionState
        do { state = try await execute(result) } catch { state = .unknown }
        try await end(result, state: state, address: address)
        return TransactionSendResult(sendResult: result, localState: state)
    }

    /// END_TRANSACTION (37) for a half message sent earlier (one-way).
    public func end(_ half: SendResult, state: LocalTransactionState, address: String? = nil) async throws {
        guard let (_, offset) = MessageId.decodeOffsetId(half.msgId) else {
            throw ClientError.badResponse("half message id \(half.msgId) is not an offset message id")
        }
        let target: String
        if let address { target = address } else { target = try await runtime.masterAddress(of: half.queue).get() }
        let request = Self.endTransaction(runtime, group: group, halfOffset: offset, queueOffset: half.queueOffset,
                                          uniqueKey: half.uniqueKey ?? "", state: state, fromCheck: false)
        try await runtime.invokeOneway(target, request).get()
    }

    static func endTransaction(_ runtime: ClientRuntime, group: String, halfOffset: Int64, queueOffset: Int64,
                               uniqueKey: String, state: LocalTransactionState, fromCheck: Bool) -> RemotingCommand {
        var f = RemotingExtFields()
        f["producerGroup"] = group
        f.set("tranStateTableOffset", queueOffset)
        f.set("commitLogOffset", halfOffset)
        f.set("commitOrRollback", state.code)
        f.set("fromTransactionCheck", fromCheck)
        f["msgId"] = uniqueKey
        f["transactionId"] = uniqueKey
        return runtime.makeRequest(code: RequestCode.endTransaction, extFields: f)
    }
}
