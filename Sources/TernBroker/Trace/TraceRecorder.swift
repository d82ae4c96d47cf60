import CompressNIO
import Logging
import NIOCore
import TernMessage
import TernProtocol
import TernStorage
import TernRemoting
import TernSystem

/// The broker's own event in message traces (README "Message trace").
///
/// Clients with tracing on send trace messages to a trace topic (`RMQ_SYS_TRACE_TOPIC`, `msgTraceTopicName`,
/// or C++'s `rmq_sys_TRACE_DATA_<region>`); their KEYS carry the traced message ids, so the key index finds
/// them. For every successful `Pub` record whose message is stored here, this appends a `Store` record
/// (store time, queue, offset, store host, born-to-store latency) to the same trace queue, keyed by the
/// message's unique and offset ids.
///
/// Derived from the log: progress per trace queue is the consumer offset of group `TERN_SYS_TRACE_RECORDER`
/// (an `InternalConsumer`), committed after the Store records are appended, so a restart resumes where it
/// stopped; a crash between the two appends a Store record twice, which `tern admin trace` shows once. Runs
/// as a `TimerService` woken only by dispatch events that touch a trace topic: with no tracing client it
/// never runs, and its reads and appends stay off the event loops.
final class TraceRecorder: Sendable {
    static let group = "TERN_SYS_TRACE_RECORDER"
    static let defaultTopic = "RMQ_SYS_TRACE_TOPIC"
    static let cppTopicPrefix = "rmq_sys_TRACE_DATA_"
    /// Trace messages read per step, and KEYS bytes per appended message (properties stay < 32 KiB).
    static let readBatch = 64
    static let maxKeysBytes = 16_384

    let context: BrokerContext
    private let consumer: InternalConsumer

    init(context: BrokerContext) {
        self.context = context
        consumer = InternalConsumer(group: Self.group, store: context.store, commitsProgress: true)
        if context.config.traceTopicEnable {
            do { try context.topics.createIfAbsent(context.config.msgTraceTopicName, queueNums: 1) } catch {
                context.logger.warning("cannot create the trace topic", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The service that runs the recorder: one catch-up pass at start, then one per dispatch event that
    /// touched a trace queue.
    func service(events: LifecycleEvents?) -> TimerService {
        let service = TimerService(name: "trace", clock: context.clock, events: events, step: { [self] _ in
            scan()
            return nil
        }, onStop: { [consumer] in consumer.stopWatching() })
        consumer.watch(name: "trace", interest: { [self] event in event.queues.keys.contains { isTraceTopic($0.topic) } },
                       wake: { [weak service] in service?.wake() })
        return service
    }

    func isTraceTopic(_ topic: String) -> Bool {
        topic == Self.defaultTopic || topic == context.config.msgTraceTopicName || topic.hasPrefix(Self.cppTopicPrefix)
    }

    /// One pass over every trace queue; returns the number of Store records appended.
    @discardableResult
    func scan() -> Int {
        var appended = 0
        for (name, config) in context.topics.all.topicConfigTable where isTraceTopic(name) {
            for q in 0..<max(config.readQueueNums, config.writeQueueNums) {
                do {
                    appended += try catchUp(QueueKey(topic: name, queueId: Int32(q)))
                } catch {
                    context.logger.warning("trace recorder failed", metadata: ["topic": "\(name)", "error": "\(error)"])
                }
            }
        }
        return appended
    }

    private func catchUp(_ queue: QueueKey) throws -> Int {
        var appended = 0
        while true {
            let batch = try consumer.messages(queue, maxCount: Self.readBatch)
            guard !batch.messages.isEmpty else { return appended }
            for m in batch.messages {
                let records = storeRecords(for: m)
                appended += records.count
                try append(records, to: queue)
            }
            try consumer.advance(queue, to: batch.next)
        }
    }

    /// Store records (with their keys) for the successful Pub records of one trace message.
    private func storeRecords(for traceMessage: StoredMessage) -> [(bytes: [UInt8], keys: [String])] {
        let record = traceMessage.record
        var body = Array(record.body)
        if record.sysFlag & SysFlag.compressed != 0 {
            var buffer = ByteBuffer(bytes: body)
            guard let inflated = try? buffer.decompress(with: .zlib(), maxSize: context.config.maxMessageSize * 8) else { return [] }
            body = Array(inflated.readableBytesView)
        }
        let storeHost = context.storeHost.description
        return TraceRecord.decode(body).compactMap { pub -> ([UInt8], [String])? in
            guard pub.type == TraceRecord.pub, pub.success != false, let m = tracedMessage(pub) else { return nil }
            let r = m.record
            let offsetId = MessageId.offsetId(storeHost: context.storeHost, physicalOffset: m.physicalOffset)
            let msgId = pub.msgId.isEmpty ? offsetId : pub.msgId
            let bytes = TraceRecord.encodeStore(
                timestamp: r.storeTimestamp, region: pub.region, brokerName: context.config.brokerName, topic: r.topicString,
                msgId: msgId, offsetMsgId: offsetId, queueId: r.queueId, queueOffset: r.queueOffset, storeHost: storeHost,
                costMillis: max(0, r.storeTimestamp - r.bornTimestamp), success: true)
            return (bytes, Array(Set([msgId, offsetId])).sorted())
        }
    }

    /// The message a Pub record names, if stored here: by offset id when it points at this broker, else by
    /// unique key.
    private func tracedMessage(_ pub: TraceRecord) -> StoredMessage? {
        if let (host, phys) = MessageId.decodeOffsetId(pub.offsetMsgId), host == context.storeHost,
           let m = context.store.message(at: phys), m.record.topicString == pub.topic {
            return m
        }
        guard !pub.msgId.isEmpty else { return nil }
        return (try? context.store.lookup(uniqueKey: pub.msgId, limit: 1))?.first { $0.record.topicString == pub.topic }
    }

    /// Appends `records` to the trace queue in messages whose KEYS stay under `maxKeysBytes`.
    private func append(_ records: [(bytes: [UInt8], keys: [String])], to queue: QueueKey) throws {
        var body: [UInt8] = [], keys: [String] = [], keyBytes = 0
        func flush() throws {
            guard !body.isEmpty else { return }
            let draft = MessageDraft(
                topic: Array(queue.topic.utf8), queueId: queue.queueId, bornTimestamp: context.clock.wallMillis(),
                bornHost: context.storeHost, storeHost: context.storeHost, body: body,
                properties: MessageProperties.encode([(MessageProperties.keys, keys.joined(separator: " "))]))
            _ = try context.store.append(draft)
            (body, keys, keyBytes) = ([], [], 0)
        }
        for r in records {
            let size = r.keys.reduce(0) { $0 + $1.utf8.count + 1 }
            if keyBytes + size > Self.maxKeysBytes { try flush() }
            body += r.bytes
            keys += r.keys
            keyBytes += size
        }
        try flush()
    }
}
