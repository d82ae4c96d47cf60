import Glibc
import TernMessage

/// What `Dispatcher.derive` reuses from record to record and batch to batch: the batch's text buffer and its topic
/// table (`DispatchBatch.topics`), each topic with what derive asks of its name.
///
/// A batch mostly names one topic: the record's topic bytes are compared with the last record's (one `memcmp`),
/// and only a change of topic looks further (the table, then a String). Topics stay in the table from batch to
/// batch, so a steady stream builds no String; `startBatch` empties it only when it holds more than `maxTopics`
/// (positions handed out in a batch stay valid until the next `startBatch`).
struct DeriveScratch {
    var text: [UInt8] = []
    /// The topics records were given positions of, in order of first sight.
    private(set) var topics: [String] = []
    private var kinds: [TopicKind] = []
    /// Position of each topic in `topics`: looked up once the table is past `linearSearchLimit`, and by `add`, which
    /// gives names that decode to one String one position.
    private var positions: [String: Int32] = [:]
    /// Each topic's UTF-8, compared as raw bytes (a String's UTF8View walks its bytes one checked step at a time).
    private var names: [[UInt8]] = []
    /// The last record's topic: its position, kind and bytes (a copy of `names[current]`, read without going
    /// through the outer array).
    private var current: Int32 = -1
    private(set) var currentKind = TopicKind.plain
    private var currentBytes: [UInt8] = []

    static let maxTopics = 1_024
    /// A batch ends once its text passed this: a record adds less than 64 KiB (its properties' length is 16 bits),
    /// so a batch's text stays below 2 GiB whatever the batch limit (``TextSpan`` holds 32-bit positions).
    static let textLimit = 1 << 30
    /// Up to this many topics a change of topic scans the table's bytes; past it, one String and a hash.
    static let linearSearchLimit = 16

    enum TopicKind {
        case plain
        /// `DelayedDelivery.scheduleTopic`: the tag code is the due time.
        case schedule
        /// `DelayedDelivery.timerTopic`: the record enters the timer table.
        case timer
        /// A `TransactionRecords.topicPrefix` topic: its records carry transaction state.
        case transaction
    }

    init() { text.reserveCapacity(4_096) }

    /// Empties the text buffer, and the topic table when it grew past `maxTopics`.
    mutating func startBatch() {
        text.removeAll(keepingCapacity: true)
        guard topics.count > Self.maxTopics else { return }
        topics.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
        current = -1
        currentBytes.removeAll(keepingCapacity: true)
    }

    /// The position of the record's topic in `topics` (added when new); `currentKind` follows it.
    mutating func topic(of r: RecordView) -> Int32 {
        let bytes = r.topic
        if current >= 0, Self.equal(currentBytes, bytes) { return current }
        let found = find(bytes) ?? add(bytes)
        current = found
        currentKind = kinds[Int(found)]
        currentBytes = names[Int(found)]
        return found
    }

    func topic(_ position: Int32) -> String { topics[Int(position)] }

    /// The consume queue `d` enters (nil when none), for callers that derive outside a batch.
    func queue(of d: DispatchRecord) -> QueueKey? { d.queue(in: topics) }

    private func find(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        if topics.count <= Self.linearSearchLimit {
            return names.firstIndex { Self.equal($0, bytes) }.map(Int32.init)
        }
        return positions[String(decoding: bytes, as: UTF8.self)]
    }

    /// Bytes that are not UTF-8 decode with replacement characters: two such names can make one String. They share
    /// its position (one topic, as the String names it everywhere else), so a batch never has two positions for
    /// one queue.
    private mutating func add(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let name = String(decoding: bytes, as: UTF8.self)
        if let known = positions[name] { return known }
        let position = Int32(topics.count)
        topics.append(name)
        names.append(Array(bytes))
        positions[name] = position
        kinds.append(name == DelayedDelivery.scheduleTopic ? .schedule
            : name == DelayedDelivery.timerTopic ? .timer
            : name.hasPrefix(TransactionRecords.topicPrefix) ? .transaction : .plain)
        return position
    }

    private static func equal(_ known: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        known.count == bytes.count && known.withUnsafeBytes { k in
            bytes.isEmpty || memcmp(k.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
    }
}
