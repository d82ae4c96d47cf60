import Synchronization
import TernMessage
import TernRemoting
import TernStorage
import TernTransport

extension SendProcessor {
    /// A single-message send to a topic with a dedup window: stored unless its UNIQ_KEY already is (then the
    /// first copy's msgId / queueId / queueOffset are answered). A message without UNIQ_KEY is stored as usual.
    func appendOnce(_ draft: MessageDraft, header: SendRequestHeader, windowMillis: Int64, responder: RemotingResponder) {
        let key: String? = draft.properties.withUnsafeBytes { bytes in
            MessageProperties.value(of: "UNIQ_KEY", in: bytes).map { String(decoding: $0, as: UTF8.self) }
        }
        guard let key, !key.isEmpty else {
            append([draft], header: header, responder: responder)
            return
        }
        let original = context.flow.dedup.deduplicate(topic: header.topic, key: key, windowMillis: windowMillis) {
            guard let r = append([draft], header: header, responder: responder)?.first else { return nil }
            return DedupService.Original(storeHost: context.storeHost, physicalOffset: r.physicalOffset, queueId: draft.queueId,
                                         queueOffset: r.queueOffset, storeTimestamp: r.storeTimestamp)
        }
        guard let original else { return }
        context.flow.duplicatesAnswered.add(1, ordering: .relaxed)
        var fields = RemotingExtFields()
        fields["msgId"] = MessageId.offsetId(storeHost: original.storeHost, physicalOffset: original.physicalOffset)
        fields.set("queueId", original.queueId)
        fields.set("queueOffset", original.queueOffset)
        fields["MSG_REGION"] = "DefaultRegion"
        fields["TRACE_ON"] = "true"
        responder.respond(code: ResponseCode.success, extFields: fields)
    }
}
