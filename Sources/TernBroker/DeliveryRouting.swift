import TernMessage
import TernProtocol
import TernRemoting
import TernStorage

/// Where a message to be stored really goes (features.md §1), applied to single sends, send-backs and
/// dead-letter re-sends before the append:
/// - a `%RETRY%` message already retried `max` times (header, MAX_RECONSUME_TIMES, the group's `retryMaxTimes`,
///   broker default) goes to `%DLQ%<group>` queue 0 (DELAY dropped);
/// - `TIMER_DELIVER_MS` / `TIMER_DELAY_SEC` / `TIMER_DELAY_MS` (RocketMQ 5.x) park it in the timer topic with its
///   absolute due time in `TIMER_OUT_MS` (at most `timerMaxDelaySec` ahead, else MESSAGE_ILLEGAL);
/// - `DELAY=N>0` parks it in `SCHEDULE_TOPIC_XXXX` queue min(N, levels)-1.
/// Parked messages keep REAL_TOPIC / REAL_QID; `ScheduleService` moves them back when due. Transaction half
/// and rollback records are left alone (they never reach a consumer).
struct DeliveryRouting: Sendable {
    let context: BrokerContext

    static let retryTopicProperty = "RETRY_TOPIC", originMessageId = "ORIGIN_MESSAGE_ID"
    static let maxReconsumeTimes = "MAX_RECONSUME_TIMES"
    static let timerDeliverMs = "TIMER_DELIVER_MS", timerDelaySec = "TIMER_DELAY_SEC", timerDelayMs = "TIMER_DELAY_MS"
    static let dlqPrefix = "%DLQ%", retryPrefix = SendService.retryTopicPrefix

    /// Rewrites `draft` in place; a rejection when the message must not be stored.
    /// `mentionsDelay`: ``mentionsDelay(_:)`` of the draft's properties when the caller already knows it.
    /// `now` (wall clock, ms) is read only for a message that may be parked, not on the hot path.
    func route(_ draft: inout MessageDraft, maxReconsumeTimes headerMax: Int32?, now readNow: @autoclosure () -> Int64,
               mentionsDelay known: Bool? = nil) -> RequestRejection? {
        let tt = SysFlag.transactionType(draft.sysFlag)
        guard tt == SysFlag.transactionNot || tt == SysFlag.transactionCommit else { return nil }
        let isRetry = draft.topic.starts(with: Self.retryPrefix.utf8)
        // Hot path: most sends carry none of these; one pass over the raw bytes decides.
        guard isRetry || (known ?? Self.mentionsDelay(draft.properties)) else { return nil }
        var props = PropertyList(draft.properties)

        if isRetry {
            let group = String(decoding: draft.topic.dropFirst(Self.retryPrefix.utf8.count), as: UTF8.self)
            let max = headerMax ?? props[Self.maxReconsumeTimes].flatMap { Int32($0) }
                ?? context.groups.retryMaxTimes(group: group).map { Int32(clamping: $0) } ?? context.config.retryMaxTimes
            if draft.reconsumeTimes >= max {
                do { try toDeadLetters(&draft, &props, group: group) } catch {
                    return .init(ResponseCode.systemError, "cannot create the dead-letter topic: \(error)")
                }
                draft.properties = props.encoded
                return nil
            }
        }
        let now = readNow()
        if let due = Self.timerDue(props, now: now) {
            guard let due else {
                return .init(ResponseCode.messageIllegal, "bad TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS value")
            }
            if due - now > context.config.timerMaxDelaySec * 1_000 {
                return .init(ResponseCode.messageIllegal,
                             "timer delivery time is more than timerMaxDelaySec=\(context.config.timerMaxDelaySec)s ahead")
            }
            if due > now {
                park(&draft, &props, topic: DelayedDelivery.timerTopic, queueId: 0)
                props[DelayedDelivery.timerOutProperty] = String(due)
                draft.properties = props.encoded
            }
            return nil
        }
        if let level = props[MessageProperties.delay].flatMap({ Int($0) }), level > 0 {
            let levels = context.config.messageDelayLevelMillis.count
            park(&draft, &props, topic: DelayedDelivery.scheduleTopic, queueId: Int32(min(level, levels) - 1))
            draft.properties = props.encoded
        }
        return nil
    }

    /// `%DLQ%<group>` queue 0, DELAY removed (created on first use, 1 queue, read-write as RocketMQ 4.9.7).
    func toDeadLetters(_ draft: inout MessageDraft, _ props: inout PropertyList, group: String) throws {
        let topic = Self.dlqPrefix + group
        try context.topics.createIfAbsent(topic, queueNums: 1)
        context.metering?.deadLettered(group: group, topic: props[Self.retryTopicProperty] ?? String(decoding: draft.topic, as: UTF8.self))
        draft.topic = Array(topic.utf8)
        draft.queueId = 0
        props[MessageProperties.delay] = nil
    }

    private func park(_ draft: inout MessageDraft, _ props: inout PropertyList, topic: String, queueId: Int32) {
        props[MessageProperties.realTopic] = String(decoding: draft.topic, as: UTF8.self)
        props[MessageProperties.realQueueId] = String(draft.queueId)
        draft.topic = Array(topic.utf8)
        draft.queueId = queueId
    }

    /// nil: no timer property; .some(nil): a malformed one; else the absolute due time (ms).
    static func timerDue(_ props: PropertyList, now: Int64) -> Int64?? {
        if let v = props[timerDeliverMs] { return .some(Int64(v)) }
        if let v = props[timerDelaySec] { return .some(Int64(v).map { now + $0 * 1_000 }) }
        if let v = props[timerDelayMs] { return .some(Int64(v).map { now + $0 }) }
        return nil
    }

    /// True when some property name is DELAY or starts with TIMER_ (cheap pre-check).
    static func mentionsDelay(_ properties: [UInt8]) -> Bool {
        var found = false
        properties.withUnsafeBytes { raw in
            MessageProperties.forEachEntry(in: raw) { name, _ in
                found = isDelayName(name)
                return !found
            }
        }
        return found
    }

    /// A property name starting with DELAY or TIMER_. The first byte rules out most names before the
    /// prefix compares (this runs for every property of every send).
    static func isDelayName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let first = name.first, first == UInt8(ascii: "D") || first == UInt8(ascii: "T") else { return false }
        return name.starts(with: "DELAY".utf8) || name.starts(with: "TIMER_".utf8)
    }
}
