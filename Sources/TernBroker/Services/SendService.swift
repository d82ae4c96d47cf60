import NIOCore
import Synchronization
import TernMessage
import TernOps
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem

/// A send, whatever transport carried it: the decoded header and the body as received.
struct SendRequest {
    var header: SendRequestHeader
    /// SEND_BATCH_MESSAGE, or a header with `batch` set: the body is a batch encoding.
    var isBatch: Bool
    /// The request's body buffer (a view, not a copy: the bytes are copied once, from here into the log).
    var body: ByteBuffer?
    /// The producer's `ip:port` as the transport sees it (BORNHOST, error remarks).
    var producerAddress: String
    /// The producer connection's read-burst metrics (nil: metrics off).
    var burst: BurstTally? = nil
}

/// What became of a send.
enum SendOutcome {
    /// Stored. `queueId` is the one the answer names (the requested queue, also for a half message);
    /// `awaitsFlush`: a sync-flush broker or a SYNC_MASTER answers only once the last record is durable / on a
    /// slave (property WAIT).
    case stored(results: OneOrMany<AppendResult>, queueId: Int32, awaitsFlush: Bool)
    /// A copy of a message already stored within its topic's dedup window: the first copy is answered.
    case duplicate(DedupService.Original)
    /// Refused before or by the store; nothing stored.
    case rejected(RequestRejection)
}

/// SEND_MESSAGE / _V2 / SEND_BATCH_MESSAGE as a transport-neutral service: validate (Java's `msgCheck`), pick
/// the queue, route (transactions, delays, retries), dedup, append. Answering (and waiting for the flush) is the
/// adapter's business (SendProcessor).
///
/// Thread-safety: `send` may run on any thread; it runs on the event loop for every message, so it reads the
/// header once, looks the topic config up once and copies the body once (into the log).
final class SendService: Sendable {
    static let retryTopicPrefix = "%RETRY%"

    let context: BrokerContext
    /// Round-robin cursor for requests with a negative queue id.
    private let nextQueue = Atomic<UInt32>(0)
    /// Retry past max → DLQ, DELAY → schedule topic, TIMER_* → timer topic (DeliveryRouting.swift).
    private let routing: DeliveryRouting
    /// The last producer address parsed: a connection's sends all carry the same `remoteAddress` string, whose
    /// `==` on the same storage is a pointer compare, cheaper than parsing it per send.
    private let lastBornHost = Mutex<(address: String, host: HostAddress)?>(nil)
    /// The last topic sent to, interned: its config and its put counter. A producer's sends repeat it, and a
    /// hit skips the name checks (a pure function of the name, passed when cached), the table's hashing while
    /// the table is unchanged, and the stats table's lock and hashing (counters are never removed).
    private let lastTopic = Mutex<InternedTopic?>(nil)

    struct InternedTopic: Sendable {
        let cached: TopicConfigManager.CachedConfig
        let puts: BrokerStats.PutCounter
    }

    /// A send's drafts, with the put counter of its topic when interned.
    struct Prepared {
        var drafts: OneOrMany<MessageDraft>
        var puts: BrokerStats.PutCounter?
    }

    init(context: BrokerContext) {
        self.context = context
        routing = DeliveryRouting(context: context)
    }

    func send(_ request: SendRequest) -> SendOutcome {
        // A follower's log is its leader's: refused before any topic is created (the store refuses too); in
        // controller mode a master whose lease fence closed stops too.
        if context.store.role == .follower || !context.replication.mayAcknowledge {
            return .rejected(StoreError.notLeader.rejection)
        }
        switch prepare(request) {
        case let .failure(rejection):
            return .rejected(rejection)
        case let .success(prepared):
            // The window first: binding the draft copies it (each of its references retained and released).
            if let window = context.flow.dedup.windowMillis(request.header.topic), case let .one(draft) = prepared.drafts {
                return appendOnce(draft, header: request.header, windowMillis: window, burst: request.burst)
            }
            return append(prepared.drafts, header: request.header, burst: request.burst, puts: prepared.puts)
        }
    }

    /// Appends `drafts` (one request's messages) and counts them (on `puts`, the topic's counter, when known).
    private func append(_ drafts: OneOrMany<MessageDraft>, header: SendRequestHeader, burst: BurstTally?,
                        puts: BrokerStats.PutCounter? = nil) -> SendOutcome {
        let results: OneOrMany<AppendResult>
        let mark = context.metering?.appendBegins(burst)
        do {
            // Metered here, where each draft is bound: no draft copied to be counted.
            switch drafts {
            case let .one(draft):
                results = .one(try context.store.append(draft))
                if let mark { context.metering?.stored(mark, topic: header.topic, draft) }
            case let .many(batch):
                results = .many(try context.store.append(batch: batch))
                if let mark { context.metering?.stored(mark, topic: header.topic, batch) }
            }
        } catch {
            return .rejected(error.rejection)
        }
        if let puts { puts.add(results.count) } else { context.flow.stats.put(topic: header.topic, count: results.count) }
        // Sync flush and / or a SYNC_MASTER's slave ack (SendProcessor+StoreWait.swift).
        let awaitsFlush = (context.config.flushDiskType == .syncFlush || context.config.brokerRole == .syncMaster)
            && Self.waitsForStore(header.properties)
        return .stored(results: results, queueId: SendHooks.responseQueueId(drafts[0]), awaitsFlush: awaitsFlush)
    }

    /// A single-message send to a topic with a dedup window: stored unless its UNIQ_KEY already is (then the
    /// first copy is the outcome). A message without UNIQ_KEY is stored as usual.
    private func appendOnce(_ draft: MessageDraft, header: SendRequestHeader, windowMillis: Int64, burst: BurstTally?) -> SendOutcome {
        let key: String? = draft.properties.withUnsafeBytes { bytes in
            MessageProperties.value(of: "UNIQ_KEY", in: bytes).map { String(decoding: $0, as: UTF8.self) }
        }
        guard let key, !key.isEmpty else { return append(.one(draft), header: header, burst: burst) }
        var outcome: SendOutcome?
        let original = context.flow.dedup.deduplicate(topic: header.topic, key: key, windowMillis: windowMillis) {
            let stored = append(.one(draft), header: header, burst: burst)
            outcome = stored
            guard case let .stored(results, queueId, _) = stored, let r = results.first else { return nil }
            return DedupService.Original(storeHost: context.storeHost, physicalOffset: r.physicalOffset, queueId: queueId,
                                         queueOffset: r.queueOffset, storeTimestamp: r.storeTimestamp)
        }
        if let outcome { return outcome }
        guard let original else { preconditionFailure("deduplicate neither appended nor found the original") }
        context.flow.duplicatesAnswered.add(1, ordering: .relaxed)
        return .duplicate(original)
    }

    /// Checks the request against Java's `msgCheck` rules and builds the drafts to append.
    private func prepare(_ request: SendRequest) -> Result<Prepared, RequestRejection> {
        let header = request.header, body = request.body, isBatch = request.isBatch
        let topic = header.topic
        let interned = lastTopic.withLock { last in last.flatMap { $0.cached.topic == topic ? $0 : nil } }
        let cached = interned?.cached
        // Java answers bad names with SYSTEM_ERROR and reserved topics with NO_PERMISSION (`msgCheck`).
        if cached == nil, let why = TopicConfigManager.invalidTopicReason(topic) {
            return .failure(RequestRejection(ResponseCode.systemError, why))
        }
        if cached == nil, TopicConfigManager.reservedTopics.contains(topic) {
            return .failure(RequestRejection(ResponseCode.noPermission, "Sending message to topic[\(topic)] is forbidden."))
        }
        if header.properties.count > RecordLayout.maxPropertiesLength {
            return .failure(RequestRejection(ResponseCode.messageIllegal,
                "the message properties length \(header.properties.count) exceeds \(RecordLayout.maxPropertiesLength)"))
        }
        let bodySize = body?.readableBytes ?? 0
        if bodySize > context.config.maxMessageSize {
            return .failure(RequestRejection(ResponseCode.messageIllegal,
                "the message body size \(bodySize) exceeds the max message size \(context.config.maxMessageSize)"))
        }
        if !isBatch, let why = CompressedBody.invalidReason(sysFlag: header.sysFlag, body: body,
                                                            maxMessageSize: context.config.maxMessageSize) {
            return .failure(RequestRejection(ResponseCode.messageIllegal, why))
        }
        if isBatch {
            if topic.hasPrefix(Self.retryTopicPrefix) {
                return .failure(RequestRejection(ResponseCode.messageIllegal, "batch request does not support retry group \(topic)"))
            }
            if SysFlag.transactionType(header.sysFlag) != SysFlag.transactionNot {
                return .failure(RequestRejection(ResponseCode.messageIllegal, "batch messages cannot be transactional"))
            }
        }
        let config: TopicConfig, puts: BrokerStats.PutCounter?
        switch writableTopicConfig(header, interned: interned) {
        case let .failure(r): return .failure(r)
        case let .success(c): (config, puts) = c
        }
        let queueId: Int32
        switch Self.chooseQueue(header.queueId, config: config, remoteAddress: request.producerAddress, cursor: nextQueue) {
        case let .failure(r): return .failure(r)
        case let .success(q): queueId = q
        }
        let bornHost = cachedBornHost(request.producerAddress)
        if isBatch {
            do {
                // A batch is stored as sent: no delay, timer or retry routing (Java refuses a batch carrying
                // DELAY; Tern does not check it yet).
                let batch = try SendBatch.drafts(body: body, header: header, queueId: queueId, bornHost: bornHost,
                                                 storeHost: context.storeHost, maxMessageSize: context.config.maxMessageSize)
                return .success(Prepared(drafts: .many(batch), puts: puts))
            } catch {
                return .failure(RequestRejection(ResponseCode.messageIllegal, error.remark))
            }
        }
        // SendHooks diverts half messages (TRAN_MSG / prepared sysFlag) to RMQ_SYS_TRANS_HALF_TOPIC.
        // The body keeps its (possibly compressed) bytes and sysFlag as sent.
        var draft = Self.draft(header, queueId: queueId, body: body, bornHost: bornHost, storeHost: context.storeHost)
        var mentionsDelay = false
        if let rejection = SendHooks.adjust(&draft, context: context, mentionsDelay: &mentionsDelay) {
            return .failure(rejection)
        }
        // Half messages ignore DELAY and retry routing (features.md §2): route only what stays in its topic.
        if !SendHooks.isHalfTopic(draft.topic),
           let rejection = routing.route(&draft, maxReconsumeTimes: header.maxReconsumeTimes, now: Clock.wallMillis(),
                                         mentionsDelay: mentionsDelay) {
            return .failure(rejection)
        }
        return .success(Prepared(drafts: .one(draft), puts: puts))
    }

    private func cachedBornHost(_ address: String) -> HostAddress {
        if let hit = lastBornHost.withLock({ $0?.address == address ? $0?.host : nil }) { return hit }
        let host = Self.bornHost(address)
        lastBornHost.withLock { $0 = (address, host) }
        return host
    }

    /// The topic's config when it may be written: `%RETRY%<group>` topics are created on demand with one queue;
    /// others are auto-created from the default topic when it allows.
    /// `interned`: `lastTopic` when it names this topic. With the config: the topic's put counter when the
    /// topic is interned (now or before).
    private func writableTopicConfig(_ header: SendRequestHeader, interned: InternedTopic?)
        -> Result<(TopicConfig, BrokerStats.PutCounter?), RequestRejection> {
        let topic = header.topic
        let found: TopicConfig?
        var puts = interned?.puts
        do {
            if topic.hasPrefix(Self.retryTopicPrefix) {
                found = try context.topics.createIfAbsent(topic, queueNums: 1)
            } else {
                let read = try context.topics.configForSend(topic, defaultTopic: header.defaultTopic,
                                                            requestedQueueNums: header.defaultTopicQueueNums,
                                                            cached: interned?.cached)
                if let read, read.generation != nil, read.generation != interned?.cached.generation {
                    let counter = puts ?? context.flow.stats.putCounter(topic: topic)
                    puts = counter
                    lastTopic.withLock { $0 = InternedTopic(cached: read, puts: counter) }
                }
                found = read?.config
            }
        } catch {
            return .failure(RequestRejection(ResponseCode.systemError, "cannot create topic \(topic): \(error)"))
        }
        guard let config = found else {
            return .failure(RequestRejection(ResponseCode.topicNotExist, "topic[\(topic)] not exist, apply first please!"))
        }
        guard Perm.isWritable(config.perm) else {
            return .failure(RequestRejection(ResponseCode.noPermission, "the topic[\(topic)] sending message is forbidden"))
        }
        return .success((config, puts))
    }
}

extension SendService {
    /// The queue a send goes to (shared with the reply processor): the requested one when in range, else
    /// SYSTEM_ERROR; a negative id picks a writable queue round-robin with `cursor`.
    static func chooseQueue(_ requested: Int32, config: TopicConfig, remoteAddress: String,
                            cursor: borrowing Atomic<UInt32>) -> Result<Int32, RequestRejection> {
        let topic = config.topicName
        let queueLimit = max(config.writeQueueNums, config.readQueueNums)
        if requested >= queueLimit {
            return .failure(RequestRejection(ResponseCode.systemError,
                "request queueId[\(requested)] is illegal, topic[\(topic)] has \(queueLimit) queues, producer: \(remoteAddress)"))
        }
        if requested >= 0 { return .success(requested) }
        guard config.writeQueueNums > 0 else {
            return .failure(RequestRejection(ResponseCode.noPermission, "the topic[\(topic)] has no writable queue"))
        }
        return .success(Int32(cursor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt32(config.writeQueueNums)))
    }

    /// One message as sent: the body keeps its (possibly compressed) bytes and sysFlag and stays in the request
    /// buffer (the encoder copies it from there into the log); topic and properties arrays are the header's
    /// (shared, not copied).
    static func draft(_ header: SendRequestHeader, queueId: Int32, body: ByteBuffer?, bornHost: HostAddress,
                      storeHost: HostAddress) -> MessageDraft {
        MessageDraft(
            topic: header.topicUTF8, queueId: queueId, flag: header.flag, sysFlag: header.sysFlag,
            bornTimestamp: header.bornTimestamp, bornHost: bornHost, storeHost: storeHost,
            reconsumeTimes: header.reconsumeTimes,
            body: body.map { .shared(RequestBody(buffer: $0)) } ?? .bytes([]),
            properties: header.properties)
    }

    /// A request's body as a draft's shared body: the buffer's storage stays alive while a draft holds it.
    /// One ByteBuffer (three words) fits the existential's inline storage: no allocation.
    struct RequestBody: SharedMessageBytes {
        let buffer: ByteBuffer
        var count: Int { buffer.readableBytes }
        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { buffer.withUnsafeReadableBytes(body) }
    }

    /// Property WAIT (default true): whether a sync-flush broker answers only after the group commit.
    static func waitsForStore(_ properties: [UInt8]) -> Bool {
        properties.withUnsafeBytes { bytes in
            guard let v = MessageProperties.value(of: "WAIT", in: bytes) else { return true }
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
