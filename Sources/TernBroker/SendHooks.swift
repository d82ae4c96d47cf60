import TernMessage
import TernRemoting
import TernStorage

/// What a single (non-batch) send becomes before it is stored, for transactions and request / reply; one
/// pass over the properties, and nothing rewritten for ordinary messages.
enum SendHooks {
    private static let tranMsg = Array(MessageProperties.transactionPrepared.utf8)
    private static let replyTo = Array(ReplyProcessor.replyToClientProperty.utf8)
    private static let cluster = Array(ReplyProcessor.clusterProperty.utf8)

    /// Half messages go to RMQ_SYS_TRANS_HALF_TOPIC (TRAN_MSG=true or prepared sysflag); a request message
    /// (REPLY_TO_CLIENT) gets the CLUSTER property, which Java repliers use to name the reply topic.
    /// `mentionsDelay` is set to ``DeliveryRouting/mentionsDelay(_:)`` of the properties, from the same pass
    /// (what this adds, CLUSTER, does not change it).
    static func adjust(_ draft: inout MessageDraft, context: BrokerContext, mentionsDelay: inout Bool) -> RequestRejection? {
        var transactional = SysFlag.transactionType(draft.sysFlag) == SysFlag.transactionPrepared
        var request = false, hasCluster = false, delay = false
        draft.properties.withUnsafeBytes { bytes in
            MessageProperties.forEachEntry(in: bytes) { name, value in
                if same(name, tranMsg) { transactional = transactional || value.elementsEqual("true".utf8) }
                else if same(name, replyTo) { request = true }
                else if same(name, cluster) { hasCluster = true }
                else if !delay { delay = DeliveryRouting.isDelayName(name) }
                return true
            }
        }
        mentionsDelay = delay
        guard transactional || (request && !hasCluster) else { return nil }
        var props = PropertyList(draft.properties)
        if request && !hasCluster { props[ReplyProcessor.clusterProperty] = context.config.brokerClusterName }
        if transactional {
            if context.config.rejectTransactionMessage {
                return RequestRejection(ResponseCode.noPermission,
                                        "the broker[\(context.config.brokerName)] sending transaction message is forbidden")
            }
            TransactionService.divertToHalf(&draft, properties: &props)
        } else {
            draft.properties = props.encoded
        }
        return nil
    }

    /// True when `name` is `literal`'s bytes. Lengths first: most properties of a send differ in length from
    /// the names looked for.
    private static func same(_ name: UnsafeRawBufferPointer, _ literal: [UInt8]) -> Bool {
        name.count == literal.count && name.elementsEqual(literal)
    }

    private static let halfTopic = Array(TransactionRecords.halfTopic.utf8)

    /// True when `topic` is RMQ_SYS_TRANS_HALF_TOPIC's UTF-8.
    static func isHalfTopic(_ topic: [UInt8]) -> Bool { topic == halfTopic }

    /// The queue id a send response names: the requested one, also for a half message (stored in queue 0).
    static func responseQueueId(_ draft: MessageDraft) -> Int32 {
        guard isHalfTopic(draft.topic) else { return draft.queueId }
        return draft.properties.withUnsafeBytes { bytes in
            MessageProperties.value(of: "REAL_QID", in: bytes).flatMap { Int32(String(decoding: $0, as: UTF8.self)) }
        } ?? draft.queueId
    }
}
