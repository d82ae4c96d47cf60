/// Flow control, broker-side dedup and stats settings (features.md §8 plus Tern's additions).
///
/// RocketMQ's keys keep their names and units (`brokerFastFailureEnable`, `waitTimeMillsInSendQueue`); Tern's
/// own keys are documented in README.md's broker.conf table. Rates are messages per second; 0 means unlimited.
/// Per-name keys carry the name after a dot: `topicRateLimit.<topic>`, `sendBackRateLimit.<group>`,
/// `groupPullRateLimit.<group>`, `dedupWindowSeconds.<topic>`.
public struct FlowConfig: Sendable, Equatable {
    /// Answer sends that waited too long with SYSTEM_BUSY instead of processing them late.
    public var brokerFastFailureEnable = true
    /// Longest wait of a send before fast failure (ms).
    public var waitTimeMillsInSendQueue: Int64 = 200
    /// Send rate per topic when the topic has no limit of its own (0 = unlimited, RocketMQ's behaviour).
    public var defaultTopicRateLimit: Double = 0
    public var topicRateLimits: [String: Double] = [:]
    /// CONSUMER_SEND_MSG_BACK rate per consumer group: lower than sends by default so one group's retry
    /// storm cannot crowd out the producers.
    public var sendBackRateLimit: Double = 1_000
    public var groupSendBackRateLimits: [String: Double] = [:]
    /// Send-backs waiting for their executor at most; past it they are answered `[OVERLOAD]` (not stored).
    public var sendBackQueueCapacity = 10_000
    /// How long a topic (or group) that ran out of tokens is refused without consulting its bucket.
    public var rateLimitBreakerMillis: Int64 = 1_000
    /// Messages per second a consumer group may pull; over it, pull answers are delayed (never failed).
    public var defaultGroupPullRateLimit: Double = 0
    public var groupPullRateLimits: [String: Double] = [:]
    /// Per-topic opt-in dedup window on UNIQ_KEY (seconds; absent or 0 = off).
    public var dedupWindowSeconds: [String: Int64] = [:]
    /// Stats log period (ms) and whether `<store>/logs/stats.log` is written.
    public var statsLogEnable = true
    public var statsPeriodMillis: Int64 = 60_000

    public init() {}

    /// Longest dedup window accepted (the unique-key index keeps far longer, this bounds the lookups' scope).
    public static let maxDedupWindowSeconds: Int64 = 7 * 86_400

    /// Applies one key; false when the key is not a flow key. Throws for a bad value.
    mutating func set(_ key: String, _ value: String) throws(BrokerError) -> Bool {
        func rate() throws(BrokerError) -> Double {
            guard let v = Double(value), v >= 0, v.isFinite else {
                throw .badConfigValue(key: key, value: value, reason: "expected messages per second >= 0")
            }
            return v
        }
        func integer(_ range: ClosedRange<Int64>) throws(BrokerError) -> Int64 {
            guard let v = Int64(value), range.contains(v) else {
                throw .badConfigValue(key: key, value: value, reason: "expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        func suffix(_ prefix: String) throws(BrokerError) -> String? {
            guard key.hasPrefix(prefix) else { return nil }
            let name = String(key.dropFirst(prefix.count))
            guard !name.isEmpty else { throw .badConfigValue(key: key, value: value, reason: "the key needs a name after the dot") }
            return name
        }
        switch key {
        case "brokerFastFailureEnable":
            switch value.lowercased() {
            case "true": brokerFastFailureEnable = true
            case "false": brokerFastFailureEnable = false
            default: throw .badConfigValue(key: key, value: value, reason: "expected true or false")
            }
        case "waitTimeMillsInSendQueue": waitTimeMillsInSendQueue = try integer(1...600_000)
        case "defaultTopicRateLimit": defaultTopicRateLimit = try rate()
        case "sendBackRateLimit": sendBackRateLimit = try rate()
        case "sendBackQueueCapacity": sendBackQueueCapacity = Int(try integer(1...1_000_000))
        case "rateLimitBreakerMillis": rateLimitBreakerMillis = try integer(0...600_000)
        case "defaultGroupPullRateLimit": defaultGroupPullRateLimit = try rate()
        case "statsLogEnable":
            guard let b = Bool(value.lowercased()) else { throw .badConfigValue(key: key, value: value, reason: "expected true or false") }
            statsLogEnable = b
        case "statsPeriodMillis": statsPeriodMillis = try integer(1_000...3_600_000)
        default:
            if let topic = try suffix("topicRateLimit.") { topicRateLimits[topic] = try rate() }
            else if let group = try suffix("sendBackRateLimit.") { groupSendBackRateLimits[group] = try rate() }
            else if let group = try suffix("groupPullRateLimit.") { groupPullRateLimits[group] = try rate() }
            else if let topic = try suffix("dedupWindowSeconds.") { dedupWindowSeconds[topic] = try integer(0...Self.maxDedupWindowSeconds) }
            else { return false }
        }
        return true
    }
}
