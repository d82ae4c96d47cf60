import Logging
import NIOCore
import Synchronization
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// Request / reply (RocketMQ 4.7+, Java `ReplyMessageProcessor`): SEND_REPLY_MESSAGE (324) / _V2 (325) carry a
/// reply to `<cluster>_REPLY_TOPIC`; the broker pushes it at once to the requester's connection, found by the
/// reply's REPLY_TO_CLIENT among the clients that heartbeat here, with PUSH_REPLY_MESSAGE_TO_CLIENT (326), then
/// stores it (`storeReplyMessageEnable`). A requester that is gone or does not accept the push is reported to
/// the replier as SYSTEM_ERROR.
final class ReplyProcessor: BrokerProcessor {
    static let pushReplyMessageToClient = 326
    static let replyToClientProperty = "REPLY_TO_CLIENT"
    static let correlationIdProperty = "CORRELATION_ID"
    static let clusterProperty = "CLUSTER"
    static let pushReplyTimeProperty = "PUSH_REPLY_TIME"
    static let replyTopicSuffix = "_REPLY_TOPIC"
    static let pushTimeout = TimeAmount.seconds(3)

    let context: BrokerContext
    private let nextQueue = Atomic<UInt32>(0)

    init(context: BrokerContext) {
        self.context = context
        let topic = context.config.brokerClusterName + Self.replyTopicSuffix
        do { try context.topics.createIfAbsent(topic, queueNums: 1) } catch {
            context.logger.warning("cannot create the reply topic", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }

    var codes: [Int] { [RequestCode.sendReplyMessage, RequestCode.sendReplyMessageV2] }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let header: SendRequestHeader
        do {
            header = try SendRequestHeader(request.extFields, names: request.code == RequestCode.sendReplyMessage
                                           ? SendRequestHeader.javaNames : SendRequestHeader.shortNames)
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: error.remark, extFields: [:])
        }
        let draft: MessageDraft
        switch prepare(header, body: request.body, remoteAddress: responder.connection.remoteAddress) {
        case let .failure(rejection): return responder.respond(code: rejection.code, remark: rejection.remark, extFields: [:])
        case let .success(d): draft = d
        }
        var props = PropertyList(draft.properties)
        guard let requester = props[Self.replyToClientProperty] else {
            return finish(draft, header: header, pushError: "reply message properties[\(Self.replyToClientProperty)] is null", responder)
        }
        guard let connection = context.clients.channel(clientId: requester) else {
            return finish(draft, header: header,
                          pushError: "push reply message fail, the requester <\(requester)> is not online (no connection)", responder)
        }
        props[Self.pushReplyTimeProperty] = String(Clock.wallMillis())
        let push = pushCommand(header, draft: draft, properties: props, body: request.body)
        connection.request(push, timeout: Self.pushTimeout).whenComplete { result in
            var error: String? = nil
            switch result {
            case let .success(r) where r.code == ResponseCode.success: break
            case let .success(r): error = "push reply message to <\(requester)> failed: code \(r.code) \(r.remark ?? "")"
            case let .failure(e): error = "push reply message to <\(requester)> failed: \(e)"
            }
            self.finish(draft, header: header, pushError: error, responder)
        }
    }

    /// Java's `msgCheck` for the reply topic (auto-created like any send) and the queue choice.
    private func prepare(_ header: SendRequestHeader, body: ByteBuffer?, remoteAddress: String) -> Result<MessageDraft, RequestRejection> {
        if let why = TopicConfigManager.invalidTopicReason(header.topic) {
            return .failure(.init(ResponseCode.systemError, why))
        }
        if let why = CompressedBody.invalidReason(sysFlag: header.sysFlag, body: body, maxMessageSize: context.config.maxMessageSize) { return .failure(.init(ResponseCode.messageIllegal, why)) }
        let config: TopicConfig
        do {
            guard let c = try context.topics.configForSend(header.topic, defaultTopic: header.defaultTopic,
                                                           requestedQueueNums: header.defaultTopicQueueNums) else {
                return .failure(.init(ResponseCode.topicNotExist, "topic[\(header.topic)] not exist, apply first please!"))
            }
            config = c
        } catch {
            return .failure(.init(ResponseCode.systemError, "cannot create topic \(header.topic): \(error)"))
        }
        return SendService.chooseQueue(header.queueId, config: config, remoteAddress: remoteAddress, cursor: nextQueue).map {
            SendService.draft(header, queueId: $0, body: body, bornHost: SendService.bornHost(remoteAddress),
                                storeHost: context.storeHost)
        }
    }

    /// PUSH_REPLY_MESSAGE_TO_CLIENT (326): the send header plus bornHost / storeHost / storeTimestamp; body = reply body.
    private func pushCommand(_ h: SendRequestHeader, draft: MessageDraft, properties: PropertyList, body: ByteBuffer?) -> RemotingCommand {
        var f = RemotingExtFields()
        f["producerGroup"] = h.producerGroup
        f["topic"] = h.topic
        f["defaultTopic"] = h.defaultTopic ?? TopicConfigManager.autoCreateTopicKey
        f.set("defaultTopicQueueNums", h.defaultTopicQueueNums)
        f.set("queueId", draft.queueId)
        f.set("sysFlag", h.sysFlag)
        f.set("bornTimestamp", h.bornTimestamp)
        f.set("flag", h.flag)
        f["properties"] = String(decoding: properties.encoded, as: UTF8.self)
        f.set("reconsumeTimes", h.reconsumeTimes)
        f.set("unitMode", h.unitMode)
        f["bornHost"] = draft.bornHost.description
        f["storeHost"] = context.storeHost.description
        f.set("storeTimestamp", Clock.wallMillis())
        return RemotingCommand(code: Self.pushReplyMessageToClient, extFields: f, body: body)
    }

    /// Stores the reply (as Java, also when the push failed) and answers the replier.
    private func finish(_ draft: MessageDraft, header: SendRequestHeader, pushError: String?, _ responder: RemotingResponder) {
        var fields = RemotingExtFields()
        fields["msgId"] = "0"
        fields.set("queueId", draft.queueId)
        fields.set("queueOffset", 0)
        if context.config.storeReplyMessageEnable {
            do {
                let r = try context.store.append(draft)
                fields["msgId"] = MessageId.offsetId(storeHost: context.storeHost, physicalOffset: r.physicalOffset)
                fields.set("queueOffset", r.queueOffset)
            } catch {
                context.logger.warning("cannot store a reply message", metadata: ["error": "\(error)"])
            }
        }
        if let pushError {
            context.logger.info("reply not delivered", metadata: ["reason": "\(pushError)"])
            return responder.respond(code: ResponseCode.systemError, remark: pushError, extFields: fields)
        }
        responder.respond(code: ResponseCode.success, extFields: fields)
    }
}
