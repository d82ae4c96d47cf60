import NIOCore
import TernRemoting

/// What an admission gate sees of a request, whatever transport carried it: the request code, its fields
/// (topic and group by the names each code uses), the peer and when the request arrived.
///
/// Cost: built once per request from fields the transport already decoded; `topic` and `group` are lookups,
/// not copies.
struct AdmissionRequest: Sendable {
    let code: Int
    /// The request's custom header fields. A gate may rewrite them (the pull rate gate lowers `maxMsgNums`);
    /// the processor then sees the rewritten fields.
    var extFields: RemotingExtFields
    /// The peer, `ip:port`.
    let remoteAddress: String
    /// Monotonic nanoseconds when the request began to wait (the read burst it arrived in): fast failure
    /// measures `now - arrivalNanos`.
    let arrivalNanos: UInt64
    /// The request's body (signed with the header when ACL is on); shares the request's storage, no copy.
    var body: ByteBuffer? = nil

    /// The topic the request is about (SEND_MESSAGE_V2 names it `b`), nil when it names none.
    var topic: String? {
        switch code {
        case RequestCode.sendMessageV2, RequestCode.sendReplyMessageV2: extFields["b"]
        default: extFields["topic"]
        }
    }

    /// The producer or consumer group the request is made for, nil when it names none.
    var group: String? {
        switch code {
        case RequestCode.sendMessageV2, RequestCode.sendReplyMessageV2: extFields["a"]
        case RequestCode.sendMessage, RequestCode.sendBatchMessage, RequestCode.sendReplyMessage,
             RequestCode.endTransaction: extFields["producerGroup"]
        case RequestCode.consumerSendMsgBack: extFields["group"]
        default: extFields["consumerGroup"]
        }
    }
}

/// A gate's verdict on one request.
enum AdmissionDecision: Sendable, Equatable {
    /// On to the next gate (the processor after the last one).
    case admit
    /// Answered with `code` and `remark`; the processor never sees it.
    case refuse(code: Int, remark: String)
    /// Asked again, from the first gate, after this long (the answer comes later, never as an error).
    case retry(afterNanos: UInt64)
}

/// One check in front of the processors: ACL (signature and permissions), then flow control (rate limits, fast
/// failure, pull pacing). A gate decides from the request alone plus its own state; it must be quick and never block
/// (it runs on an event loop) and must not keep a reservation past its verdict (a later gate may refuse).
protocol AdmissionGate: Sendable {
    /// Request codes this gate looks at; nil for every code.
    var codes: Set<Int>? { get }
    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision
}

/// The gates in order, resolved per request code once at startup, so a code without gates costs one lookup.
final class AdmissionChain: Sendable {
    private let byCode: [Int: [any AdmissionGate]]
    private let everyCode: [any AdmissionGate]

    /// `gates` run in this order; `knownCodes` are the codes served (gates for every code apply to them).
    init(_ gates: [any AdmissionGate], knownCodes: some Sequence<Int>) {
        everyCode = gates.filter { $0.codes == nil }
        var byCode: [Int: [any AdmissionGate]] = [:]
        for code in knownCodes {
            let chain = gates.filter { $0.codes?.contains(code) ?? true }
            if !chain.isEmpty { byCode[code] = chain }
        }
        self.byCode = byCode
    }

    /// True when no gate looks at `code` (the request goes straight to its processor).
    func isOpen(for code: Int) -> Bool { byCode[code] == nil && everyCode.isEmpty }

    /// Runs the gates for `request.code` in order; the first verdict other than `.admit` wins.
    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
        for gate in byCode[request.code] ?? everyCode {
            let decision = gate.admit(&request, nowNanos: nowNanos)
            if decision != .admit { return decision }
        }
        return .admit
    }
}
