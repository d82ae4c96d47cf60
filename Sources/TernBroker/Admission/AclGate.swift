import NIOCore
import TernProtocol
import TernRemoting
import TernSecurity
import TernSystem

/// RocketMQ's plain ACL in front of every processor (features.md §9): the first gate, so a refused request
/// costs no flow-control token and reaches no processor. A request without a known `AccessKey`, with a bad
/// signature or without the permission its code needs is answered NO_PERMISSION (16) with Java's remark.
///
/// Cost per request: one atomic load for the accounts, one HMAC over the header values and body; a heartbeat
/// also decodes its body (the groups and topics it names are checked, as Java does).
struct AclGate: AdmissionGate {
    let acl: PlainAclFile
    /// `aclBenchmarkUnsignedEnable`: a request without `AccessKey` passes unchecked (benchmarks only).
    var admitsUnsigned = false
    var codes: Set<Int>? { nil }

    /// Codes only `admin: true` accounts may send: Java's `Permission.ADMIN_CODE` (create/update topic, broker
    /// config, delete topic, create/delete subscription group) plus Tern's own: flow limits, dead letters, the
    /// metrics recording switch.
    /// An array: ten integer comparisons cost less than hashing the code (every signed request asks).
    static let adminCodes: [Int] = [
        RequestCode.updateAndCreateTopic, 25, AdminRequestCode.deleteTopicInBroker, 200, 207,
        FlowRequestCode.setFlowLimit, FlowRequestCode.getFlowLimits,
        DeadLetterRequestCode.queryDeadLetters, DeadLetterRequestCode.resendDeadLetters,
        MetricsRequestCode.setMetricsRecording,
    ]

    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
        // Presence only: no String of the key's value (signed requests pay nothing more than a lookup here).
        if admitsUnsigned, !request.extFields.forEachUTF8Run(ofValueFor: AclSigner.accessKeyKey, { _ in }) { return .admit }
        // Authenticated first, then the requirement built here: no closure over the request handed to the ACL.
        let verdict: AclVerdict
        switch acl.authenticate(remoteAddress: request.remoteAddress, extFields: request.extFields, body: request.body) {
        case .allowed: verdict = .allowed
        case .denied(let reason): verdict = .denied(reason)
        case .signed(let account): verdict = account.authorize(Self.requirement(request), code: request.code)
        }
        switch verdict {
        case .allowed: return .admit
        case .denied(let reason): return .refuse(code: ResponseCode.noPermission, remark: reason)
        }
    }

    /// What `request` needs, per code as Java's `PlainAccessValidator.parse`. A send to a retry topic needs SUB on
    /// the group that topic names; offsets need SUB on topic and group. Codes not listed need a valid signature only.
    static func requirement(_ request: borrowing AdmissionRequest) -> AclRequirement {
        var needed = AclRequirement(needsAdmin: adminCodes.contains(request.code))
        // Fields read in place through `request` (a closure over it copied the request: retains per request).
        switch request.code {
        case RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage,
             RequestCode.sendReplyMessage, RequestCode.sendReplyMessageV2:
            let topic = request.extFields["b"] ?? request.extFields["topic"]
            needed.add(topic, topic.map(AclResource.isRetryTopic) == true ? .sub : .pub)
        case RequestCode.consumerSendMsgBack:
            needed.add(retry(request.extFields["group"]), .sub)
        case RequestCode.pullMessage, RequestCode.updateConsumerOffset, RequestCode.queryConsumerOffset:
            needed.add(request.extFields["topic"], .sub)
            needed.add(retry(request.extFields["consumerGroup"]), .sub)
        case RequestCode.queryMessage:
            needed.add(request.extFields["topic"], .sub)
        case RequestCode.unregisterClient, RequestCode.getConsumerListByGroup:
            needed.add(retry(request.extFields["consumerGroup"]), .sub)
        case RequestCode.heartBeat:
            // An undecodable body needs nothing here; the processor refuses it.
            guard let data = try? JSONBody.decode(HeartbeatData.self, from: request.body) else { break }
            for consumer in data.consumerDataSet {
                needed.add(retry(consumer.groupName), .sub)
                for subscription in consumer.subscriptionDataSet { needed.add(subscription.topic, .sub) }
            }
        default:
            break
        }
        return needed
    }

    private static func retry(_ group: String?) -> String? { group.map(AclResource.retryTopic(group:)) }
}

extension AclGate {
    /// How often the ACL file's modification time is checked (RocketMQ's file watcher polls every 500 ms).
    static let reloadPeriodMillis: Int64 = 1_000

    /// Re-reads the ACL file when it changed; a broken file keeps the accounts in force (``PlainAclFile``).
    static func reloadService(_ acl: PlainAclFile, clock: any TernClock, events: LifecycleEvents) -> TimerService {
        TimerService.periodic(name: "acl-reload", clock: clock, periodMillis: reloadPeriodMillis, events: events) {
            acl.reloadIfChanged()
        }
    }
}
