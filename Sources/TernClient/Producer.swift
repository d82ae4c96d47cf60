import TernProtocol
import Foundation
import NIOCore
import Synchronization
import TernMessage
import TernRemoting
import TernTransport

/// Producer settings.
public struct ProducerOptions: Sendable {
    public var group = "TERN_PRODUCER_GROUP"
    /// SEND_MESSAGE_V2 (310, short field names a..m) and SEND_BATCH_MESSAGE (320) when true; SEND_MESSAGE (10,
    /// `batch` field for batches) when false.
    public var useV2Header = true
    /// Extra attempts on other queues after a transport failure or a retriable broker code (17, 14, 1, 16, 204,
    /// 205, as Java retries). Never used when the caller fixes the queue.
    public var retries = 2
    /// Bodies of at least this many bytes are sent zlib-compressed with sysFlag bit 0; nil never compresses.
    public var compressBodyOver: Int? = 4096
    public var defaultTopic = "TBW102"
    public var defaultTopicQueueNums = 4
    /// Per-attempt timeout; nil uses the runtime's request timeout.
    public var sendTimeout: TimeAmount?

    public init() {}
}

/// What a send stored.
public struct SendResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        case ok = "SEND_OK"
        case flushDiskTimeout = "FLUSH_DISK_TIMEOUT"
        case flushSlaveTimeout = "FLUSH_SLAVE_TIMEOUT"
        case slaveNotAvailable = "SLAVE_NOT_AVAILABLE"
    }
    public var status: Status
    /// Offset message id from the response (for a batch: the ids joined by `,`).
    public var msgId: String
    /// The `UNIQ_KEY` this producer gave the message (nil for a batch: each item has its own).
    public var uniqueKey: String?
    public var queue: MessageQueue
    /// Queue offset of the (first) message.
    public var queueOffset: Int64
    public var transactionId: String?
    /// The broker's stage stamps, when it traces sends (nil otherwise).
    public var brokerTrace: SendTraceStamps?

    public var msgIds: [String] { msgId.split(separator: ",").map(String.init) }
    public var queueId: Int32 { Int32(truncatingIfNeeded: queue.queueId) }
}

/// One message of a batch.
public struct BatchEntry: Sendable {
    public var body: [UInt8]
    public var tags: String?
    public var keys: [String]
    public var properties: [String: String]
    public var flag: Int32

    public init(body: [UInt8], tags: String? = nil, keys: [String] = [], properties: [String: String] = [:], flag: Int32 = 0) {
        self.body = body
        self.tags = tags
        self.keys = keys
        self.properties = properties
        self.flag = flag
    }
}

/// Sends messages to the master of a queue chosen round-robin over the topic's writable queues.
///
/// ``sendFuture(topic:body:tags:keys:properties:queue:flag:)`` needs no task per message, so a load generator can
/// keep many requests in flight; the `async` forms wrap it.
public final class Producer: Sendable {
    public let runtime: ClientRuntime
    public let options: ProducerOptions
    /// Round-robin position; starts at random so short-lived producers do not all hit queue 0 first.
    private let cursor = Atomic<UInt>(UInt.random(in: 0 ..< 1 << 16))
    /// Send header templates by topic (``headerTemplate(topic:sysFlag:flag:)``).
    private let headerTemplates = Mutex<[String: SendHeaderTemplate]>([:])
    static let headerTemplatesMax = 64

    public init(runtime: ClientRuntime, options: ProducerOptions = ProducerOptions()) {
        self.runtime = runtime
        self.options = options
    }

    // MARK: - Single messages

    public func send(topic: String, body: [UInt8], tags: String? = nil, keys: [String] = [],
                     properties: [String: String] = [:], queue: MessageQueue? = nil, flag: Int32 = 0) async throws -> SendResult {
        try await sendFuture(topic: topic, body: ByteBuffer(bytes: body), tags: tags, keys: keys,
                             properties: properties, queue: queue, flag: flag).get()
    }

    public func send(topic: String, body: ByteBuffer, tags: String? = nil, keys: [String] = [],
                     properties: [String: String] = [:], queue: MessageQueue? = nil, flag: Int32 = 0) async throws -> SendResult {
        try await sendFuture(topic: topic, body: body, tags: tags, keys: keys, properties: properties,
                             queue: queue, flag: flag).get()
    }

    /// Sends one message. `queue` fixes the queue (no retry on another one); otherwise round-robin.
    public func sendFuture(topic: String, body: ByteBuffer, tags: String? = nil, keys: [String] = [],
                           properties: [String: String] = [:], queue: MessageQueue? = nil,
                           flag: Int32 = 0) -> EventLoopFuture<SendResult> {
        do {
            return dispatch(try prepareSingle(topic: topic, body: body, tags: tags, keys: keys, properties: properties, flag: flag),
                            fixedQueue: queue)
        } catch {
            return runtime.group.next().makeFailedFuture(error)
        }
    }

    /// ``sendFuture(topic:body:tags:keys:properties:queue:flag:)`` of a message without user properties, with a
    /// callback in place of the future: no promise and no callback list per send (a load generator's form).
    /// `completion` runs once: on the connection's event loop, or at once when the send fails before leaving.
    public func send(topic: String, body: ByteBuffer, queue: MessageQueue? = nil,
                     completion: @escaping @Sendable (Result<SendResult, any Error>) -> Void) {
        let send: PreparedSend
        do {
            send = try prepareSingle(topic: topic, body: body, tags: nil, keys: [], properties: [:], flag: 0)
        } catch {
            return completion(.failure(error))
        }
        dispatch(send, fixedQueue: queue, completion)
    }

    /// One message ready to send: user properties, WAIT, a new UNIQ_KEY, the body compressed when large.
    func prepareSingle(topic: String, body: ByteBuffer, tags: String?, keys: [String], properties: [String: String],
                       flag: Int32) throws -> PreparedSend {
        var payload = body
        var sysFlag: Int32 = 0
        if let threshold = options.compressBodyOver, body.readableBytes >= threshold {
            payload = try Zlib.deflate(body)
            sysFlag |= SysFlag.compressed
        }
        let key = UniqueKey.nextWords()
        let uniqueKey = UniqueKey.string(key)
        guard (tags ?? "").isEmpty, keys.isEmpty, properties.isEmpty else {
            var entries = Self.userProperties(tags: tags, keys: keys, properties: properties)
            entries.append((MessageProperties.wait, "true"))
            entries.append((MessageProperties.uniqueKey, uniqueKey))
            return PreparedSend(topic: topic, body: payload, properties: MessageProperties.encode(entries),
                                sysFlag: sysFlag, flag: flag, batch: false, uniqueKey: uniqueKey)
        }
        // No user properties (a load generator's sends): the properties are WAIT and the UNIQ_KEY, and the
        // header comes from the topic's template.
        return PreparedSend(topic: topic, body: payload, properties: [], sysFlag: sysFlag, flag: flag, batch: false,
                            uniqueKey: uniqueKey, template: (headerTemplate(topic: topic, sysFlag: sysFlag, flag: flag), key))
    }

    /// The header template of single messages without user properties to `topic`, made on first use and kept
    /// while sysFlag and flag stay the same.
    private func headerTemplate(topic: String, sysFlag: Int32, flag: Int32) -> SendHeaderTemplate {
        if let kept = headerTemplates.withLock({ $0[topic] }), kept.sysFlag == sysFlag, kept.flag == flag { return kept }
        let made = SendHeaderTemplate(topic: topic, sysFlag: sysFlag, flag: flag,
                                      entries: [(MessageProperties.wait, "true")], options: options)
        headerTemplates.withLock { templates in
            // Bounded: a producer spraying topics lays out again instead of keeping every one.
            if templates.count >= Self.headerTemplatesMax { templates.removeAll() }
            templates[topic] = made
        }
        return made
    }

    // MARK: - Batches

    public func sendBatch(topic: String, messages: [BatchEntry], queue: MessageQueue? = nil) async throws -> SendResult {
        try await sendBatchFuture(topic: topic, messages: messages, queue: queue).get()
    }

    /// Sends `messages` as one batch body (all to one queue; consecutive offsets). Each item gets its own UNIQ_KEY.
    public func sendBatchFuture(topic: String, messages: [BatchEntry], queue: MessageQueue? = nil) -> EventLoopFuture<SendResult> {
        guard !messages.isEmpty else {
            return runtime.group.next().makeFailedFuture(ClientError.invalidArgument("empty batch"))
        }
        let body = Self.encodeBatch(messages)
        let send = PreparedSend(topic: topic, body: ByteBuffer(bytes: body),
                                properties: MessageProperties.encode([(MessageProperties.wait, "true")]),
                                sysFlag: 0, flag: 0, batch: true, uniqueKey: nil)
        return dispatch(send, fixedQueue: queue)
    }

    /// The batch body: items with their own properties (user properties, then UNIQ_KEY), per message-format.md §5.
    public static func encodeBatch(_ messages: [BatchEntry]) -> [UInt8] {
        BatchCodec.encode(messages.map { m in
            var entries = userProperties(tags: m.tags, keys: m.keys, properties: m.properties)
            entries.append((MessageProperties.uniqueKey, UniqueKey.next()))
            return BatchItem(flag: m.flag, body: m.body, properties: MessageProperties.encode(entries))
        })
    }

    // MARK: - Internals

    private static func userProperties(tags: String?, keys: [String], properties: [String: String]) -> [(String, String)] {
        var entries: [(String, String)] = []
        entries.reserveCapacity(properties.count + 4)
        if !keys.isEmpty { entries.append((MessageProperties.keys, keys.joined(separator: " "))) }
        if let tags, !tags.isEmpty { entries.append((MessageProperties.tags, tags)) }
        for (k, v) in properties.sorted(by: { $0.key < $1.key }) { entries.append((k, v)) }
        return entries
    }

    /// The future form of ``dispatch(_:fixedQueue:_:)``: one promise for the whole send, its retries included.
    func dispatch(_ send: PreparedSend, fixedQueue: MessageQueue?) -> EventLoopFuture<SendResult> {
        let promise = runtime.group.next().makePromise(of: SendResult.self)
        dispatch(send, fixedQueue: fixedQueue) { promise.completeWith($0) }
        return promise.futureResult
    }

    /// Resolves the topic's route (cached, or asked for) and makes the first attempt.
    private func dispatch(_ send: PreparedSend, fixedQueue: MessageQueue?,
                          _ completion: @escaping @Sendable (Result<SendResult, any Error>) -> Void) {
        if let route = runtime.cachedRoute(topic: send.topic) { return attempt(send, route, fixedQueue, 0, completion) }
        runtime.route(topic: send.topic).whenComplete { route in
            switch route {
            case .success(let route): self.attempt(send, route, fixedQueue, 0, completion)
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    /// One attempt, and the retries its failure allows, reporting to `completion` once (one callback per attempt,
    /// no future per step of a chain: each was an allocation and a generic metadata lookup per send).
    private func attempt(_ send: PreparedSend, _ route: TopicRouteInfo, _ fixedQueue: MessageQueue?, _ n: Int,
                 _ completion: @escaping @Sendable (Result<SendResult, any Error>) -> Void) {
        let (request, queue, address): (RemotingCommand, MessageQueue, String)
        do {
            (request, queue, address) = try target(send, route, fixedQueue)
        } catch {
            return completion(.failure(error))
        }
        runtime.invoke(address, request, timeout: options.sendTimeout).whenComplete { answer in
            if let done = self.outcome(answer, send, queue, address, fixedQueue, n) { return completion(done) }
            self.attempt(send, route, nil, n + 1, completion)
        }
    }

    /// An attempt's request, its queue (`fixedQueue`, or the next writable one) and that queue's master; throws
    /// when there is none.
    private func target(_ send: PreparedSend, _ route: TopicRouteInfo,
                        _ fixedQueue: MessageQueue?) throws -> (RemotingCommand, MessageQueue, String) {
        let queue: MessageQueue
        let master: String?
        if let fixedQueue {
            queue = fixedQueue
            master = route.masterAddress(of: queue.brokerName)
        } else {
            let queues = route.writeQueues
            guard !queues.isEmpty else { throw ClientError.noQueue(topic: send.topic, write: true) }
            let index = Int(cursor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(queues.count))
            queue = queues[index]
            master = route.writeQueueMasters[index]
        }
        guard let address = master else { throw ClientError.noMasterAddress(queue.brokerName) }
        let code: Int
        if send.batch { code = options.useV2Header ? RequestCode.sendBatchMessage : RequestCode.sendMessage }
        else if send.reply { code = options.useV2Header ? RequestCode.sendReplyMessageV2 : RequestCode.sendReplyMessage }
        else { code = options.useV2Header ? RequestCode.sendMessageV2 : RequestCode.sendMessage }
        let request = runtime.makeRequest(code: code, extFields: send.header(queueId: Int32(truncatingIfNeeded: queue.queueId), options: options),
                                          body: send.body)
        return (request, queue, address)
    }

    /// What an attempt's answer makes of the send: its result or its failure, or nil when another attempt on
    /// another queue is worth it.
    private func outcome(_ answer: Result<RemotingCommand, any Error>, _ send: PreparedSend, _ queue: MessageQueue,
                         _ address: String, _ fixedQueue: MessageQueue?, _ n: Int) -> Result<SendResult, any Error>? {
        let error: any Error
        do {
            return .success(try Self.result(of: answer.get(), queue: queue, address: address, uniqueKey: send.uniqueKey))
        } catch let failure {
            error = failure
        }
        // A reply is not resent: its failure says the requester is gone, and each attempt is stored.
        guard fixedQueue == nil, !send.reply, n < options.retries, Self.isRetriable(error) else { return .failure(error) }
        if case ClientError.response(ResponseCode.topicNotExist, _, _) = error {
            runtime.invalidateRoute(topic: send.topic)
        }
        return nil
    }

    static func isRetriable(_ error: any Error) -> Bool {
        if error is TransportError { return true }
        if case ClientError.response(let code, _, _) = error {
            return [ResponseCode.topicNotExist, ResponseCode.serviceNotAvailable, ResponseCode.systemError,
                    ResponseCode.noPermission, ResponseCode.noBuyerId, ResponseCode.notInCurrentUnit].contains(code)
        }
        return false
    }

    static func result(of response: RemotingCommand, queue: MessageQueue, address: String, uniqueKey: String?) throws -> SendResult {
        let status: SendResult.Status
        switch response.code {
        case ResponseCode.success: status = .ok
        case ResponseCode.flushDiskTimeout: status = .flushDiskTimeout
        case ResponseCode.flushSlaveTimeout: status = .flushSlaveTimeout
        case ResponseCode.slaveNotAvailable: status = .slaveNotAvailable
        default: throw ClientError.response(code: response.code, remark: response.remark, address: address)
        }
        guard let msgId = response.extFields["msgId"] else { throw ClientError.badResponse("send response without msgId") }
        let queueId = try response.requiredInt64("queueId")
        var stored = queue
        stored.queueId = Int(truncatingIfNeeded: queueId)
        return SendResult(status: status, msgId: msgId, uniqueKey: uniqueKey, queue: stored,
                          queueOffset: try response.requiredInt64("queueOffset"),
                          transactionId: response.extFields["transactionId"], brokerTrace: SendTraceStamps(response.extFields))
    }
}

/// A message (or batch) ready to go: everything but the queue.
struct PreparedSend: Sendable {
    var topic: String
    var body: ByteBuffer
    /// The properties' bytes; empty when `template` carries them.
    var properties: [UInt8]
    var sysFlag: Int32
    var flag: Int32
    var batch: Bool
    var uniqueKey: String?
    /// SEND_REPLY_MESSAGE(_V2) instead of a send code.
    var reply = false
    /// The header laid out in advance, and the UNIQ_KEY that ends its properties; nil: built field by field.
    var template: (header: SendHeaderTemplate, uniqueKey: (UInt64, UInt64))?

    /// Send request header; short names a..m for V2 / batch codes (remoting.md §5.1). Values are strings.
    /// From the template when it still describes this send (a caller may have changed `sysFlag` or `flag`
    /// since), field by field otherwise: the same fields, in the same order, with the same text.
    func header(queueId: Int32, options: ProducerOptions, bornTimestamp: Int64 = nowMillis()) -> RemotingExtFields {
        if let template, template.header.describes(self) {
            return template.header.fields(queueId: queueId, bornTimestamp: bornTimestamp, uniqueKey: template.uniqueKey)
        }
        let v2 = options.useV2Header
        var f = RemotingExtFields()
        f.reserveCapacity(12)
        f[v2 ? "a" : "producerGroup"] = options.group
        f[v2 ? "b" : "topic"] = topic
        f[v2 ? "c" : "defaultTopic"] = options.defaultTopic
        f.set(v2 ? "d" : "defaultTopicQueueNums", options.defaultTopicQueueNums)
        f.set(v2 ? "e" : "queueId", queueId)
        f.set(v2 ? "f" : "sysFlag", sysFlag)
        f.set(v2 ? "g" : "bornTimestamp", bornTimestamp)
        f.set(v2 ? "h" : "flag", flag)
        f[v2 ? "i" : "properties"] = String(decoding: propertyBytes, as: UTF8.self)
        f.set(v2 ? "j" : "reconsumeTimes", 0)
        f.set(v2 ? "k" : "unitMode", false)
        f.set(v2 ? "m" : "batch", batch)
        return f
    }

    /// The properties as sent.
    var propertyBytes: [UInt8] {
        guard let template else { return properties }
        return template.header.propertiesBefore + Array(UniqueKey.string(template.uniqueKey).utf8)
            + [MessageProperties.entrySeparator]
    }

    static func nowMillis() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
