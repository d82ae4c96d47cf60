import Synchronization
import TernRemoting

/// Flow control as admission gates (features.md §8), in chain order: the per-topic send rate with its
/// circuit breaker, fast failure of sends that waited too long, the per-group send-back rate, and pull pacing.
/// Each costs a dictionary lookup and a clock read; none touches the store.
extension FlowControl {
    var admissionGates: [any AdmissionGate] {
        [TopicRateGate(flow: self), SendFastFailureGate(flow: self), SendBackRateGate(flow: self),
         PullPaceGate(flow: self)]
    }
}

/// Sends to a topic over its rate are refused with `[RateLimit]`; the breaker then refuses the topic for a while
/// without consulting its bucket.
struct TopicRateGate: AdmissionGate {
    let flow: FlowControl
    var codes: Set<Int>? { FlowControl.sendCodes }

    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
        guard flow.topicLimiter.isActive else { return .admit }
        let topic = request.topic ?? ""
        return flow.refusal(flow.topicLimiter.acquire(topic, now: nowNanos), kind: "topic", name: topic,
                            limiter: flow.topicLimiter)
    }
}

/// Sends run on the event loop, so there is no send queue to measure: a send's wait is the time since its read
/// burst began. Over `waitTimeMillsInSendQueue` it is answered `[TIMEOUT_CLEAN_QUEUE]` instead of processed late.
struct SendFastFailureGate: AdmissionGate {
    let flow: FlowControl
    var codes: Set<Int>? { FlowControl.sendCodes }

    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
        guard flow.config.brokerFastFailureEnable else { return .admit }
        let waited = nowNanos &- request.arrivalNanos
        let limit = UInt64(flow.config.waitTimeMillsInSendQueue) * 1_000_000
        guard waited > limit, waited < UInt64(Int64.max) else { return .admit }
        let failures = flow.fastFailures.add(1, ordering: .relaxed).newValue
        // "size of queue" counts fast failures so far (RocketMQ reports its send queue's length).
        return .refuse(code: ResponseCode.systemBusy, remark:
            "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: \(waited / 1_000_000)ms, size of queue: \(failures)")
    }
}

/// CONSUMER_SEND_MSG_BACK over its group's rate is refused with `[RateLimit]`, so one group's retry storm cannot
/// crowd out the others (the send-back executor's bound is FlowControl's, after admission).
struct SendBackRateGate: AdmissionGate {
    let flow: FlowControl
    var codes: Set<Int>? { [RequestCode.consumerSendMsgBack] }

    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
        let group = request.group ?? ""
        return flow.refusal(flow.sendBackLimiter.acquire(group, now: nowNanos), kind: "group", name: group,
                            limiter: flow.sendBackLimiter)
    }
}

/// A group over its pull rate has its pull asked again once a token is back, then asks for at most the tokens
/// available; the answer comes later, never as an error. What answers carried is charged by
/// `FlowControl.consumed`.
struct PullPaceGate: AdmissionGate {
    let flow: FlowControl
    var codes: Set<Int>? { [RequestCode.pullMessage] }

    func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
        guard flow.pullLimiter.isActive, let group = request.group,
              let allowance = flow.pullLimiter.pullAllowance(group, now: nowNanos) else { return .admit }
        if allowance.delayNanos > 0 { return .retry(afterNanos: allowance.delayNanos) }
        if let asked = request.extFields.int64("maxMsgNums"), asked > allowance.tokens {
            request.extFields.set("maxMsgNums", max(1, allowance.tokens))
        }
        return .admit
    }
}
