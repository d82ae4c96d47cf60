import TernRemoting

/// PULL_MESSAGE (11) request fields (remoting.md §5.2). C++ sends some as JSON numbers, some as strings; the
/// header decoder has rendered them all as text.
struct PullRequestHeader: Sendable {
    /// Pull sysFlag bits.
    static let flagCommitOffset = 1, flagSuspend = 2, flagSubscription = 4, flagClassFilter = 8, flagLitePull = 16

    var consumerGroup: String
    var topic: String
    var queueId: Int32
    var queueOffset: Int64
    var maxMsgNums: Int
    var sysFlag: Int
    var commitOffset: Int64
    var suspendTimeoutMillis: Int64
    var subscription: String?
    var subVersion: Int64
    var expressionType: String?

    var hasCommitOffset: Bool { sysFlag & Self.flagCommitOffset != 0 }
    var hasSuspend: Bool { sysFlag & Self.flagSuspend != 0 }
    var hasSubscription: Bool { sysFlag & Self.flagSubscription != 0 }

    /// Fails with SYSTEM_ERROR naming the first required field that is absent or malformed.
    static func parse(_ f: RemotingExtFields) -> Result<PullRequestHeader, RequestRejection> {
        func missing(_ name: String) -> Result<PullRequestHeader, RequestRejection> {
            .failure(RequestRejection(ResponseCode.systemError, "the custom field <\(name)> is null or malformed"))
        }
        guard let group = f.string("consumerGroup"), !group.isEmpty else { return missing("consumerGroup") }
        guard let topic = f.string("topic"), !topic.isEmpty else { return missing("topic") }
        guard let queueId = f.int32("queueId") else { return missing("queueId") }
        guard let offset = f.int64("queueOffset") else { return missing("queueOffset") }
        guard let maxNums = f.int64("maxMsgNums") else { return missing("maxMsgNums") }
        guard let sysFlag = f.int64("sysFlag") else { return missing("sysFlag") }
        return .success(PullRequestHeader(
            consumerGroup: group, topic: topic, queueId: queueId, queueOffset: offset,
            maxMsgNums: Int(clamping: maxNums), sysFlag: Int(clamping: sysFlag),
            commitOffset: f.int64("commitOffset") ?? -1,
            suspendTimeoutMillis: f.int64("suspendTimeoutMillis") ?? 0,
            subscription: f.string("subscription"), subVersion: f.int64("subVersion") ?? 0,
            expressionType: f.string("expressionType")))
    }
}

/// An error answer: response code and remark.
struct RequestRejection: Error, Sendable, Equatable {
    var code: Int
    var remark: String
    init(_ code: Int, _ remark: String) { self.code = code; self.remark = remark }
}
