/// Tern's flow-control admin requests (our own codes, not RocketMQ's): set one limit at runtime, read them all.
public enum FlowRequestCode {
    /// extFields `kind` (see ``FlowLimitKind``), `name` (topic or group; absent for defaults), `value`.
    public static let setFlowLimit = 9110
    /// Answer body: ``FlowLimitsBody``.
    public static let getFlowLimits = 9111
}

/// Tern's dead-letter admin requests (our own codes; RocketMQ's console re-sends through a client instead).
public enum DeadLetterRequestCode {
    /// Dead letters of a group. Header: group, offset? (default: first unsent), maxNum? (32).
    /// Answer: stored records as in a pull body; extFields minOffset, maxOffset, resentOffset.
    public static let queryDeadLetters = 60_001
    /// Re-send dead letters to their original topic. Header: group, msgId? (offset id or UNIQ_KEY; default:
    /// every dead letter not re-sent yet). Answer extFields: resent, skipped.
    public static let resendDeadLetters = 60_002
}

/// What a SET_FLOW_LIMIT request changes. Rates are messages per second (0 lifts the limit); dedup windows
/// are seconds (0 turns dedup off for the topic).
public enum FlowLimitKind: String, Sendable, CaseIterable, Codable {
    case topicRate, defaultTopicRate, sendBackRate, defaultSendBackRate, pullRate, defaultPullRate, dedupWindow

    /// Whether the kind applies to one topic / group (needs `name`).
    public var isNamed: Bool {
        switch self {
        case .topicRate, .sendBackRate, .pullRate, .dedupWindow: true
        case .defaultTopicRate, .defaultSendBackRate, .defaultPullRate: false
        }
    }
}

/// The broker's current limits and flow counters (GET_FLOW_LIMITS answer; also `<store>/config/flow.json`,
/// where the counters are left at 0).
public struct FlowLimitsBody: Codable, Sendable, Equatable {
    public var defaultTopicRateLimit: Double
    public var topicRateLimits: [String: Double]
    public var sendBackRateLimit: Double
    public var groupSendBackRateLimits: [String: Double]
    public var defaultGroupPullRateLimit: Double
    public var groupPullRateLimits: [String: Double]
    public var dedupWindowSeconds: [String: Int64]
    public var fastFailures: Int
    public var rateLimited: Int
    public var duplicatesAnswered: Int

    public init(defaultTopicRateLimit: Double, topicRateLimits: [String: Double], sendBackRateLimit: Double,
                groupSendBackRateLimits: [String: Double], defaultGroupPullRateLimit: Double,
                groupPullRateLimits: [String: Double], dedupWindowSeconds: [String: Int64],
                fastFailures: Int = 0, rateLimited: Int = 0, duplicatesAnswered: Int = 0) {
        self.defaultTopicRateLimit = defaultTopicRateLimit
        self.topicRateLimits = topicRateLimits
        self.sendBackRateLimit = sendBackRateLimit
        self.groupSendBackRateLimits = groupSendBackRateLimits
        self.defaultGroupPullRateLimit = defaultGroupPullRateLimit
        self.groupPullRateLimits = groupPullRateLimits
        self.dedupWindowSeconds = dedupWindowSeconds
        self.fastFailures = fastFailures
        self.rateLimited = rateLimited
        self.duplicatesAnswered = duplicatesAnswered
    }
}

/// Tern's metrics recording switch, for benchmarks only (our own code, not RocketMQ's): served only by a broker
/// with metrics on and `metricsRecordingToggleEnable=true`; any other broker answers REQUEST_CODE_NOT_SUPPORTED.
public enum MetricsRequestCode {
    /// extField `recording` (`true` / `false`): the request path records metrics or not from the next request
    /// on. Answer extFields: `recording` (now in force) and `storeMaxOffset` (the commit log's end, so a
    /// benchmark counts what was stored between two switches without another request).
    public static let setMetricsRecording = 9120
}
