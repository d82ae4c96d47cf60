import NIOCore
import Synchronization
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320): validate, pick the queue, append,
/// answer (remoting.md §5.1, message-format.md §4-5).
///
/// Runs on the event loop for every message: the header is read once, the topic config looked up once, and
/// the body copied once, from the request's buffer straight into the draft. Async flush answers inline; sync
/// flush answers from the store's group-commit callback. One-way requests are stored and never answered (the
/// responder drops the answer, so it is not even built).
final class SendProcessor: BrokerProcessor {
    let context: BrokerContext
    /// Round-robin cursor for requests with a negative queue id.
    private let nextQueue = Atomic<UInt32>(0)

    /// Retry past max → DLQ, DELAY → schedule topic, TIMER_* → timer topic (DeliveryRouting.swift).
    private let routing: DeliveryRouting

    /// Stops reading a sender's connection while the indexes lag too far behind the log.
    let backpressure: StoreBackpressure

    init(context: BrokerContext) {
        self.context = context
        routing = DeliveryRouting(context: context)
        backpressure = StoreBackpressure(store: context.store)
    }

    func shutdown() { backpressure.stop() }

    var codes: [Int] { [RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage] }

    static let retryTopicPrefix = "%RETRY%"

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let header: SendRequestHeader
        do {
            header = try SendRequestHeader(request.extFields, names: request.code == RequestCode.sendMessage
                                           ? SendRequestHeader.javaNames : SendRequestHeader.shortNames)
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: error.remark, extFields: [:])
        }
        if GroupName.refuses(header.producerGroup, responder) { return }
        if refusesOnSlave(responder) { return }
        switch prepare(header, isBatch: request.code == RequestCode.sendBatchMessage || header.batch,
                       body: request.body, remoteAddress: responder.connection.remoteAddress) {
        case let .failure(rejection):
            responder.respond(code: rejection.code, remark: rejection.remark, extFields: [:])
        case let .success(drafts):
            if drafts.count == 1, let window = context.flow.dedup.windowMillis(header.topic) {
                return appendOnce(drafts[0], header: header, windowMillis: window, responder: responder)
            }
            append(drafts, header: header, responder: responder)
        }
    }

    /// A send refused before it reached the store.
    struct Rejection: Error {
        let code: Int
        let remark: String
    }

    /// Checks the request against Java's `msgCheck` rules and builds the drafts to append.
    private func prepare(_ header: SendRequestHeader, isBatch: Bool, body: ByteBuffer?,
                         remoteAddress: String) -> Result<[MessageDraft], Rejection> {
        let topic = header.topic
        // Java answers bad names with SYSTEM_ERROR and reserved topics with NO_PERMISSION (`msgCheck`).
        if let why = TopicConfigManager.invalidTopicReason(topic) {
            return .failure(Rejection(code: ResponseCode.systemError, remark: why))
        }
        if TopicConfigManager.reservedTopics.contains(topic) {
            return .failure(Rejection(code: ResponseCode.noPermission, remark: "Sending message to topic[\(topic)] is forbidden."))
        }
        if header.properties.utf8.count > RecordLayout.maxPropertiesLength {
            return .failure(Rejection(code: ResponseCode.messageIllegal,
                                      remark: "the message properties length \(header.properties.utf8.count) exceeds \(RecordLayout.maxPropertiesLength)"))
        }
        let bodySize = body?.readableBytes ?? 0
        if bodySize > context.config.maxMessageSize {
            return .failure(Rejection(code: ResponseCode.messageIllegal,
                                      remark: "the message body size \(bodySize) exceeds the max message size \(context.config.maxMessageSize)"))
        }
        if !isBatch, let why = CompressedBody.invalidReason(sysFlag: header.sysFlag, body: body, maxMessageSize: context.config.maxMessageSize) { return .failure(Rejection(code: ResponseCode.messageIllegal, remark: why)) }
        if isBatch {
            if topic.hasPrefix(Self.retryTopicPrefix) {
                return .failure(Rejection(code: ResponseCode.messageIllegal, remark: "batch request does not support retry group \(topic)"))
            }
            if SysFlag.transactionType(header.sysFlag) != SysFlag.transactionNot {
                return .failure(Rejection(code: ResponseCode.messageIllegal, remark: "batch messages cannot be transactional"))
            }
        }

        let config: TopicConfig
        do {
            guard let c = try topicConfig(header) else {
                return .failure(Rejection(code: ResponseCode.topicNotExist,
                                          remark: "topic[\(topic)] not exist, apply first please!"))
            }
            config = c
        } catch {
            return .failure(Rejection(code: ResponseCode.systemError, remark: "cannot create topic \(topic): \(error)"))
        }
        guard Perm.isWritable(config.perm) else {
            return .failure(Rejection(code: ResponseCode.noPermission, remark: "the topic[\(topic)] sending message is forbidden"))
        }
        let queueId: Int32
        switch Self.chooseQueue(header.queueId, config: config, remoteAddress: remoteAddress, cursor: nextQueue) {
        case let .failure(r): return .failure(r)
        case let .success(q): queueId = q
        }

        let bornHost = Self.bornHost(remoteAddress)
        if isBatch {
            do {
                let drafts = try SendBatch.drafts(body: body, header: header, queueId: queueId, bornHost: bornHost,
                                                  storeHost: context.storeHost, maxMessageSize: context.config.maxMessageSize)
                // A batch is stored as sent: no delay, timer or retry routing (Java refuses a batch carrying
                // DELAY; Tern does not check it yet).
                return .success(drafts)
            } catch {
                return .failure(Rejection(code: ResponseCode.messageIllegal, remark: error.remark))
            }
        }
        // SendHooks diverts half messages (TRAN_MSG / prepared sysFlag) to RMQ_SYS_TRANS_HALF_TOPIC.
        // The body keeps its (possibly compressed) bytes and sysFlag as sent.
        var draft = Self.draft(header, queueId: queueId, body: body, bornHost: bornHost, storeHost: context.storeHost)
        if let rejection = SendHooks.adjust(&draft, context: context) { return .failure(rejection) }
        // Half messages ignore DELAY and retry routing (features.md §2): route only what stays in its topic.
        if !draft.topic.elementsEqual(TransactionRecords.halfTopic.utf8),
           let rejection = routing.route(&draft, maxReconsumeTimes: header.maxReconsumeTimes, now: Clock.wallMillis()) {
            return .failure(rejection)
        }
        return .success([draft])
    }

    /// The topic's config: `%RETRY%<group>` topics are created on demand with one queue; others are
    /// auto-created from the default topic when it allows (else nil).
    private func topicConfig(_ header: SendRequestHeader) throws -> TopicConfig? {
        if header.topic.hasPrefix(Self.retryTopicPrefix) {
            return try context.topics.createIfAbsent(header.topic, queueNums: 1)
        }
        return try context.topics.configForSend(header.topic, defaultTopic: header.defaultTopic,
                                                requestedQueueNums: header.defaultTopicQueueNums)
    }

    /// Appends and answers; returns what was stored (nil when nothing was).
    @discardableResult
    func append(_ drafts: [MessageDraft], header: SendRequestHeader, responder: RemotingResponder) -> [AppendResult]? {
        let results: [AppendResult]
        do {
            results = drafts.count == 1 ? [try context.store.append(drafts[0])] : try context.store.append(batch: drafts)
        } catch {
            responder.respond(code: error.responseCode, remark: error.description, extFields: [:])
            return nil
        }
        context.flow.stats.put(topic: header.topic, count: results.count)
        backpressure.pauseIfLagging(responder.connection)
        guard !responder.isOneway, let first = results.first, let last = results.last else { return results }

        var fields = RemotingExtFields()
        fields.reserveCapacity(5)
        let storeHost = context.storeHost
        fields["msgId"] = results.count == 1
            ? MessageId.offsetId(storeHost: storeHost, physicalOffset: first.physicalOffset)
            : results.map { MessageId.offsetId(storeHost: storeHost, physicalOffset: $0.physicalOffset) }.joined(separator: ",")
        fields.set("queueId", SendHooks.responseQueueId(drafts[0]))
        fields.set("queueOffset", first.queueOffset)
        fields["MSG_REGION"] = "DefaultRegion"
        fields["TRACE_ON"] = "true"

        guard waitsBeforeAnswering(header) else {
            responder.respond(code: ResponseCode.success, extFields: fields)
            return results
        }
        respondWhenStored(end: last.endOffset, fields: fields, responder: responder)
        return results
    }

    /// The queue a send goes to (shared with the reply processor): the requested one when in range, else
    /// SYSTEM_ERROR; a negative id picks a writable queue round-robin with `cursor`.
    static func chooseQueue(_ requested: Int32, config: TopicConfig, remoteAddress: String,
                            cursor: borrowing Atomic<UInt32>) -> Result<Int32, Rejection> {
        let topic = config.topicName
        let queueLimit = max(config.writeQueueNums, config.readQueueNums)
        if requested >= queueLimit {
            return .failure(Rejection(code: ResponseCode.systemError, remark:
                "request queueId[\(requested)] is illegal, topic[\(topic)] has \(queueLimit) queues, producer: \(remoteAddress)"))
        }
        if requested >= 0 { return .success(requested) }
        guard config.writeQueueNums > 0 else {
            return .failure(Rejection(code: ResponseCode.noPermission, remark: "the topic[\(topic)] has no writable queue"))
        }
        return .success(Int32(cursor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt32(config.writeQueueNums)))
    }

    /// One message as sent: the body keeps its (possibly compressed) bytes and sysFlag.
    static func draft(_ header: SendRequestHeader, queueId: Int32, body: ByteBuffer?, bornHost: HostAddress,
                      storeHost: HostAddress) -> MessageDraft {
        MessageDraft(
            topic: Array(header.topic.utf8), queueId: queueId, flag: header.flag, sysFlag: header.sysFlag,
            bornTimestamp: header.bornTimestamp, bornHost: bornHost, storeHost: storeHost,
            reconsumeTimes: header.reconsumeTimes,
            body: body.map { Array($0.readableBytesView) } ?? [],
            properties: Array(header.properties.utf8))
    }

    /// Property WAIT (default true): whether a sync-flush broker answers only after the group commit.
    static func waitsForStore(_ properties: String) -> Bool {
        var properties = properties
        return properties.withUTF8 { bytes in
            guard let v = MessageProperties.value(of: "WAIT", in: UnsafeRawBufferPointer(bytes)) else { return true }
            return !v.elementsEqual("false".utf8)
        }
    }

    /// BORNHOST: the producer's IPv4 `ip:port` as the socket sees it (IPv4-mapped IPv6 unwrapped), else 0.0.0.0:0.
    static func bornHost(_ remoteAddress: String) -> HostAddress {
        if let h = HostAddress(remoteAddress) { return h }
        let mapped = "::ffff:"
        if remoteAddress.hasPrefix(mapped), let h = HostAddress(String(remoteAddress.dropFirst(mapped.count))) { return h }
        return unknownHost
    }

    static let unknownHost = HostAddress(ip: (0, 0, 0, 0), port: 0)
}
