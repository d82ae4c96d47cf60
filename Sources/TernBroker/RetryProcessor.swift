import Logging
import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// CONSUMER_SEND_MSG_BACK (36) and dead-letter administration.
///
/// Everything here runs on flow control's bounded retry executor, off the event loops and the send path: a
/// consumer's retry storm queues there, not in front of producers.
final class RetryProcessor: BrokerProcessor {
    let context: BrokerContext
    let routing: DeliveryRouting

    init(context: BrokerContext) {
        self.context = context
        routing = DeliveryRouting(context: context)
    }

    var codes: [Int] { [RequestCode.consumerSendMsgBack, DeadLetterRequestCode.queryDeadLetters, DeadLetterRequestCode.resendDeadLetters] }

    /// Send-backs run where flow control put them: its bounded retry executor (one queue, one limit).
    /// Dead-letter admin requests arrive on an event loop and are handed to the same executor; its shutdown
    /// (in the lifecycle's drain step, before the store closes) waits for the running one.
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        if GroupName.refuses(headerOf: request, responder) { return }
        if request.code == RequestCode.consumerSendMsgBack { return sendBack(request, responder) }
        context.flow.runOnRetryExecutor(responder) { [self] in
            if request.code == DeadLetterRequestCode.queryDeadLetters {
                queryDeadLetters(request.extFields, responder)
            } else {
                resendDeadLetters(request.extFields, responder)
            }
        }
    }

    // MARK: Send-back

    /// Java 3.4.9 (version 122) added the header's maxReconsumeTimes; older clients' values are ignored.
    static let maxReconsumeTimesVersion = 122

    private func sendBack(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        guard let group = f["group"], !group.isEmpty, let offset = f.int64("offset") else {
            return responder.respond(code: ResponseCode.systemError, remark: "CONSUMER_SEND_MSG_BACK needs group and offset")
        }
        // Refused up front when its retry topic could never be stored (RocketMQ accepts it and then fails the put).
        if let why = TopicConfigManager.invalidTopicReason(SendService.retryTopicPrefix + group) {
            return responder.respond(code: ResponseCode.systemError, remark: "group \(group) cannot have a retry topic: \(why)")
        }
        guard let groupConfig = context.groups.find(group) else {
            return responder.respond(code: ResponseCode.subscriptionGroupNotExist, remark: "subscription group not exist, \(group)")
        }
        guard let original = context.store.message(at: offset) else {
            return responder.respond(code: ResponseCode.systemError, remark: "look message by offset failed, \(offset)")
        }
        let r = original.record
        var props = PropertyList(r.properties)
        if props[DeliveryRouting.retryTopicProperty] == nil { props[DeliveryRouting.retryTopicProperty] = r.topicString }
        if props[DeliveryRouting.originMessageId] == nil {
            props[DeliveryRouting.originMessageId] = MessageId.offsetId(storeHost: r.storeHost, physicalOffset: offset)
        }
        props[MessageProperties.wait] = "false"
        props[DelayedDelivery.deliveredProperty] = nil
        let max = (request.version >= Self.maxReconsumeTimesVersion ? f.int32("maxReconsumeTimes") : nil) ?? Int32(clamping: groupConfig.retryMaxTimes)
        let delayLevel = f.int32("delayLevel") ?? 0
        var draft = MessageDraft(topic: [], queueId: 0, flag: r.flag, sysFlag: r.sysFlag, bornTimestamp: r.bornTimestamp,
                                 bornHost: r.bornHost, storeHost: r.storeHost, reconsumeTimes: r.reconsumeTimes + 1,
                                 body: Array(r.body), properties: [])
        do {
            if r.reconsumeTimes >= max || delayLevel < 0 {
                try routing.toDeadLetters(&draft, &props, group: group)
            } else {
                let retry = try context.topics.createIfAbsent(SendService.retryTopicPrefix + group, queueNums: 1)
                draft.topic = Array(retry.topicName.utf8)
                draft.queueId = Int32.random(in: 0..<Int32(Swift.max(1, retry.writeQueueNums)))
                props[MessageProperties.delay] = String(delayLevel == 0 ? 3 + r.reconsumeTimes : delayLevel)
            }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "cannot create topic: \(error)")
        }
        draft.properties = props.encoded
        // maxReconsumeTimes: the decision is taken above; the retry record itself must not be diverted again.
        if let rejection = routing.route(&draft, maxReconsumeTimes: .max, now: context.clock.wallMillis()) {
            return responder.respond(code: rejection.code, remark: rejection.remark)
        }
        do {
            _ = try context.store.append(draft)
            responder.respond(code: ResponseCode.success)
        } catch {
            responder.respond(code: ResponseCode.systemError, remark: "send back failed: \(error)")
        }
    }

    // MARK: Dead letters

    static func deadLetterQueue(_ group: String) -> QueueKey { QueueKey(topic: DeliveryRouting.dlqPrefix + group, queueId: 0) }

    /// Group G's own consumer offset on `%DLQ%G` marks how far dead letters were re-sent (ordinary
    /// subscriptions never consume the DLQ, so the slot is otherwise unused; consumerProgress shows the rest).
    private func resentOffset(_ group: String) -> Int64? {
        try? context.store.consumerOffset(group: group, queue: Self.deadLetterQueue(group))
    }

    private func queryDeadLetters(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let group = f["group"], !group.isEmpty else {
            return responder.respond(code: ResponseCode.systemError, remark: "group is required")
        }
        let queue = Self.deadLetterQueue(group)
        let range = (try? context.store.queueRange(queue)) ?? QueueRange(min: 0, max: 0)
        let resent = resentOffset(group) ?? range.min
        let from = f.int64("offset") ?? resent
        let maxNum = Int(min(max(f.int64("maxNum") ?? 32, 1), 1_000))
        var fields = RemotingExtFields()
        fields.set("minOffset", range.min)
        fields.set("maxOffset", range.max)
        fields.set("resentOffset", resent)
        guard let result = try? context.store.getMessages(queue, from: from, maxCount: maxNum, maxBytes: 4 << 20),
              !result.messages.isEmpty else {
            return responder.respond(code: ResponseCode.success, extFields: fields)
        }
        var body = ByteBufferAllocator().buffer(capacity: result.totalBytes)
        for m in result.messages { body.writeBytes(m.bytes) }
        responder.respond(code: ResponseCode.success, extFields: fields, body: body)
    }

    private func resendDeadLetters(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let group = f["group"], !group.isEmpty else {
            return responder.respond(code: ResponseCode.systemError, remark: "group is required")
        }
        let queue = Self.deadLetterQueue(group)
        var resent = 0, skipped: [String] = []
        func resend(_ m: StoredMessage) {
            if let why = resendOne(m.record) { skipped.append(why) } else { resent += 1 }
        }
        if let id = f["msgId"], !id.isEmpty {
            var found: [StoredMessage] = []
            if let m = context.store.lookup(offsetMessageId: id), m.record.topicString == queue.topic { found = [m] }
            if found.isEmpty {
                found = ((try? context.store.lookup(uniqueKey: id)) ?? []).filter { $0.record.topicString == queue.topic }
                found = Array(found.prefix(1))  // the newest dead letter with that id
            }
            guard !found.isEmpty else {
                return responder.respond(code: ResponseCode.queryNotFound, remark: "no dead letter \(id) in \(queue.topic)")
            }
            found.forEach(resend)
        } else {
            let deadLetters = InternalConsumer(group: group, store: context.store, commitsProgress: true)
            while let batch = try? deadLetters.messages(queue, maxCount: 256), !batch.messages.isEmpty {
                batch.messages.forEach(resend)
                try? deadLetters.advance(queue, to: batch.next)
            }
        }
        var fields = RemotingExtFields()
        fields.set("resent", Int64(resent))
        fields.set("skipped", Int64(skipped.count))
        responder.respond(code: ResponseCode.success, remark: skipped.isEmpty ? nil : skipped.prefix(5).joined(separator: "; "),
                          extFields: fields)
    }

    /// Stores a copy of dead letter `r` in its original topic (RETRY_TOPIC, else REAL_TOPIC) with reconsume
    /// times reset; nil on success, else why not.
    private func resendOne(_ r: RecordView) -> String? {
        var props = PropertyList(r.properties)
        guard let topic = props[DeliveryRouting.retryTopicProperty] ?? props[MessageProperties.realTopic], !topic.isEmpty else {
            return "record at \(r.physicalOffset) names no original topic"
        }
        guard let config = try? context.topics.configForSend(topic, defaultTopic: nil, requestedQueueNums: context.config.defaultTopicQueueNums),
              config.writeQueueNums > 0 else {
            return "topic \(topic) does not exist"
        }
        props[MessageProperties.delay] = nil
        props[DelayedDelivery.deliveredProperty] = nil
        props[MessageProperties.wait] = "false"
        let draft = MessageDraft(topic: Array(topic.utf8), queueId: Int32.random(in: 0..<Int32(config.writeQueueNums)), flag: r.flag,
                                 sysFlag: r.sysFlag, bornTimestamp: r.bornTimestamp, bornHost: r.bornHost, storeHost: r.storeHost,
                                 reconsumeTimes: 0, body: Array(r.body), properties: props.encoded)
        do { _ = try context.store.append(draft) } catch { return "append failed: \(error)" }
        return nil
    }
}
