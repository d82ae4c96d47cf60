import Foundation
import NIOConcurrencyHelpers
import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport

/// Requests a broker sends to this client on its connections: CHECK_TRANSACTION_STATE (39), routed by the
/// PGROUP of the checked message to its ``TransactionProducer``, and PUSH_REPLY_MESSAGE_TO_CLIENT (326), routed
/// by CORRELATION_ID to the waiting ``Producer/request(topic:body:tags:keys:properties:timeout:)``.
final class ClientInbound: RemotingRequestHandler {
    static let pushReplyMessageToClient = 326
    typealias Checker = @Sendable (RemotingCommand, ReceivedMessage, RemotingConnection) -> Void

    private struct State {
        var checkers: [String: Checker] = [:]
        var waiters: [String: EventLoopPromise<ReceivedMessage>] = [:]
    }
    private let state = NIOLockedValueBox(State())

    static func makeClientId() -> String {
        "\(ProcessInfo.processInfo.hostName)@\(ProcessInfo.processInfo.processIdentifier)#\(UInt32.random(in: 0 ... .max))"
    }

    func setChecker(group: String, _ checker: Checker?) { state.withLockedValue { $0.checkers[group] = checker } }

    func addWaiter(_ correlationId: String, _ promise: EventLoopPromise<ReceivedMessage>) {
        state.withLockedValue { $0.waiters[correlationId] = promise }
    }

    func removeWaiter(_ correlationId: String) -> EventLoopPromise<ReceivedMessage>? {
        state.withLockedValue { $0.waiters.removeValue(forKey: correlationId) }
    }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        switch request.code {
        case RequestCode.checkTransactionState:
            guard let message = try? RecordDecoder.messages(in: request.body, checkCRC: false).first,
                  let group = message.properties[MessageProperties.producerGroup],
                  let checker = state.withLockedValue({ $0.checkers[group] }) else { return }
            checker(request, message, responder.connection)
        case Self.pushReplyMessageToClient:
            let message = Self.replyMessage(request)
            if let id = message.properties[ReplyProperties.correlationId], let waiter = removeWaiter(id) {
                waiter.succeed(message)
            }
            responder.respond(code: ResponseCode.success)
        default:
            responder.respond(code: ResponseCode.requestCodeNotSupported, remark: " request type \(request.code) not supported")
        }
    }

    /// The reply from a push: header fields as the send header plus hosts and store time; body inflated.
    static func replyMessage(_ request: RemotingCommand) -> ReceivedMessage {
        let f = request.extFields
        let properties = PropertyList(Array((f["properties"] ?? "").utf8)).dictionary
        let sysFlag = Int32(truncatingIfNeeded: f.int64("sysFlag") ?? 0)
        var body = request.body.map { Array($0.readableBytesView) } ?? []
        if sysFlag & SysFlag.compressed != 0, let inflated = try? Zlib.inflate(body) { body = inflated }
        return ReceivedMessage(
            topic: f["topic"] ?? "", queueId: Int32(truncatingIfNeeded: f.int64("queueId") ?? 0), queueOffset: 0,
            physicalOffset: 0, flag: Int32(truncatingIfNeeded: f.int64("flag") ?? 0), sysFlag: sysFlag, body: body,
            properties: properties, bornTimestamp: f.int64("bornTimestamp") ?? 0, storeTimestamp: f.int64("storeTimestamp") ?? 0,
            bornHost: f["bornHost"] ?? "", storeHost: f["storeHost"] ?? "",
            reconsumeTimes: Int32(truncatingIfNeeded: f.int64("reconsumeTimes") ?? 0),
            msgId: properties[MessageProperties.uniqueKey] ?? "")
    }
}

/// Request / reply property names (Java `MessageConst`).
public enum ReplyProperties {
    public static let correlationId = "CORRELATION_ID"
    public static let replyToClient = "REPLY_TO_CLIENT"
    public static let ttl = "TTL"
    public static let messageType = "MSG_TYPE"
    public static let cluster = "CLUSTER"
    public static let replyTopicSuffix = "_REPLY_TOPIC"
}

/// Brokers this client heartbeats with its producer groups (so they can send check-backs and reply pushes),
/// every 30 s once the first one is registered.
final class HeartbeatTargets: Sendable {
    static let period = TimeAmount.seconds(30)
    private struct State {
        var groups: [String: Set<String>] = [:]
        var task: RepeatedTask?
    }
    private let state = NIOLockedValueBox(State())

    func stop() { state.withLockedValue { $0.task?.cancel(); $0.task = nil } }

    /// Registers `group` for `address` and heartbeats it at once when it is new; completes when the broker
    /// has answered that heartbeat (at once when nothing changed).
    func ensure(_ runtime: ClientRuntime, address: String, group: String) -> EventLoopFuture<Void> {
        let (isNew, startTimer) = state.withLockedValue { s -> (Bool, Bool) in
            let isNew = s.groups[address, default: []].insert(group).inserted
            return (isNew, s.task == nil)
        }
        if startTimer {
            let task = runtime.group.next().scheduleRepeatedTask(initialDelay: Self.period, delay: Self.period) { [weak runtime] _ in
                guard let runtime else { return }
                for (address, groups) in runtime.heartbeats.state.withLockedValue({ $0.groups }) {
                    _ = runtime.heartbeat(address: address, producerGroups: groups.sorted())
                }
            }
            state.withLockedValue { s in
                if s.task == nil { s.task = task } else { task.cancel() }
            }
        }
        guard isNew else { return runtime.group.next().makeSucceededVoidFuture() }
        let groups = state.withLockedValue { $0.groups[address] ?? [] }
        return runtime.heartbeat(address: address, producerGroups: groups.sorted())
    }
}

extension ClientRuntime {
    /// HEART_BEAT (34) to `address` naming this client and its producer groups.
    func heartbeat(address: String, producerGroups: [String]) -> EventLoopFuture<Void> {
        let data = HeartbeatData(clientID: clientId, producerDataSet: producerGroups.map(ProducerData.init))
        return invoke(address, makeRequest(code: RequestCode.heartBeat, body: JSONBody.encode(data)))
            .flatMapThrowing { _ = try $0.expectSuccess(from: address) }
    }
}
