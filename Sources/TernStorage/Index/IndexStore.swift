import Glibc
import TernMessage

/// The derived state of a store: everything here can be rebuilt from the commit log, except consumer
/// offsets (primary state, written by consumers) — `clearDerived()` keeps those.
///
/// Event-sourcing rule: `apply(_:)` writes a batch of index entries *and* the dispatch checkpoint in one
/// atomic step, so after any crash the checkpoint says exactly which log prefix the indexes cover.
///
/// Backends: `LMDBIndexStore` (durable) and `InMemoryIndexStore` (tests). Both pass the same test suite.
/// Implementations are thread-safe; the store calls `apply` from one dispatcher thread only.
public protocol IndexStore: AnyObject, Sendable {
    // MARK: Dispatch
    /// Writes every entry of the batch and sets the checkpoint to `batch.checkpoint`, atomically.
    func apply(_ batch: DispatchBatch) throws
    /// The commit-log offset up to which the indexes are complete, and the start offset of the last record
    /// they cover (-1 when none), used by recovery to check that the log still holds that record.
    func checkpoint() throws -> DispatchCheckpoint
    /// Drops every entry that points at or past `physicalOffset` and lowers the checkpoint to it (recovery when
    /// the index is ahead of the valid log end).
    func truncate(from physicalOffset: Int64, lastRecord: Int64) throws
    /// Drops entries that point below `physicalOffset` (retention) and advances each queue's min offset
    /// to its first entry at or above it. `firstStoreTimestamp` is the store time of the record at
    /// `physicalOffset` (log order == time order, so every older record was stored at or before it).
    func deleteBelow(_ physicalOffset: Int64, firstStoreTimestamp: Int64) throws
    /// Drops all derived state (queues, keys, transaction states, checkpoint, recorded derivation); keeps
    /// consumer offsets.
    func clearDerived() throws
    /// The `DerivationConfig` the derived tables were built with; nil when none is recorded (an empty index, or
    /// one built before the config was recorded).
    func derivation() throws -> DerivationConfig?
    /// Records the config the derived tables are (about to be) built with.
    func recordDerivation(_ config: DerivationConfig) throws

    // MARK: Consume queues
    /// Every queue with its [min, max) logical offsets.
    func queues() throws -> [QueueKey: QueueRange]
    func queueRange(_ queue: QueueKey) throws -> QueueRange?
    /// Entries of `queue` from logical offset `from`, at most `maxCount`, in offset order.
    func entries(_ queue: QueueKey, from: Int64, maxCount: Int) throws -> [ConsumeQueueEntry]

    // MARK: Message keys
    /// Physical offsets of records of `topic` whose KEYS contain `key`, stored in [begin, end] (ms),
    /// newest first, at most `limit`.
    func lookupKey(topic: String, key: String, beginTimestamp: Int64, endTimestamp: Int64, limit: Int) throws -> [Int64]
    /// Physical offsets of records whose UNIQ_KEY is `uniqueKey`, newest first, at most `limit`.
    func lookupUniqueKey(_ uniqueKey: String, limit: Int) throws -> [Int64]

    // MARK: Transactions (keyed by the half message's commit-log offset)
    func setTransactionState(_ physicalOffset: Int64, _ state: TransactionState) throws
    func transactionState(_ physicalOffset: Int64) throws -> TransactionState?
    /// CHECK_TRANSACTION_STATE requests sent so far for the half message at `physicalOffset` (0 when none).
    func transactionChecks(_ physicalOffset: Int64) throws -> Int32

    // MARK: Timers (DelayedDelivery.swift)
    /// Pending timer entries due at or before `due`, earliest first, at most `limit`.
    func timers(dueBy due: Int64, limit: Int) throws -> [TimerEntry]
    /// The earliest pending timer, if any.
    func firstTimer() throws -> TimerEntry?

    // MARK: Consumer offsets (primary state)
    func commitConsumerOffset(group: String, queue: QueueKey, offset: Int64) throws
    /// Writes every offset of `batch` in one write transaction (all or none).
    func commitConsumerOffsets(_ batch: [ConsumerOffsetKey: Int64]) throws
    func consumerOffset(group: String, queue: QueueKey) throws -> Int64?
    func consumerOffsets() throws -> [ConsumerOffsetKey: Int64]
    /// One group's offsets (all topics): a key range, not a scan of every group's.
    func consumerOffsets(group: String) throws -> [ConsumerOffsetKey: Int64]
    /// Deletes every offset of each group in `groups` (all topics) in one write transaction; returns how many.
    func removeConsumerOffsets(groups: Set<String>) throws -> Int
    /// Changes (grows) after every commit or removal of consumer offsets: readers of what consumers still want
    /// re-read only after it moved. Offsets written by dispatch itself (a schedule level's progress) need not move it.
    var consumerOffsetsVersion: UInt64 { get }

    // MARK: Durability and statistics
    /// Makes every applied batch and committed offset durable (fsync).
    func sync() throws
    func statistics() throws -> IndexStatistics
    func close()
}

public struct QueueKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var queueId: Int32
    public init(topic: String, queueId: Int32) { self.topic = topic; self.queueId = queueId }
    public static func < (a: QueueKey, b: QueueKey) -> Bool { (a.topic, a.queueId) < (b.topic, b.queueId) }
    public var description: String { "\(topic)/\(queueId)" }
}

/// Logical offsets present in a queue: `min ..< max`; `max` is the next offset to be assigned.
public struct QueueRange: Hashable, Sendable {
    public var min: Int64
    public var max: Int64
    public init(min: Int64, max: Int64) { self.min = min; self.max = max }
}

/// One consume-queue unit: Java's 20-byte (offset, size, tag code) plus the store time, which serves
/// offset-by-timestamp without touching the log.
public struct ConsumeQueueEntry: Hashable, Sendable {
    public var queueOffset: Int64
    public var physicalOffset: Int64
    public var size: Int32
    public var tagCode: Int64
    public var storeTimestamp: Int64
    public init(queueOffset: Int64, physicalOffset: Int64, size: Int32, tagCode: Int64, storeTimestamp: Int64) {
        self.queueOffset = queueOffset; self.physicalOffset = physicalOffset; self.size = size
        self.tagCode = tagCode; self.storeTimestamp = storeTimestamp
    }
}

/// What the dispatcher derived from one commit-log record.
public struct DispatchRecord: Sendable, Equatable {
    /// nil for records that do not enter a consume queue (prepared / rolled-back transaction types).
    public var queue: QueueKey?
    public var entry: ConsumeQueueEntry
    public var topic: String
    /// The KEYS value as stored (keys separated by spaces) and the UNIQ_KEY: ranges of the batch's `text`
    /// (`DispatchBatch.text`), so deriving and indexing a record builds no String or array per record.
    /// nil when absent (and for rolled-back transaction records, which the key indexes skip).
    public var keys: Range<Int>?
    public var uniqueKey: Range<Int>?
    /// Transaction state implied by the record for the half message at `transactionOffset` (a half record:
    /// its own offset; commit / rollback / op records: their PREPARED TRANSACTION OFFSET). `.half` with
    /// `transactionChecks > 0` is a check-back record: it only raises the count of a still-open half. An
    /// outcome only replaces `.half` (the first outcome wins).
    public var transactionState: TransactionState?
    public var transactionOffset: Int64 = 0
    public var transactionChecks: Int32 = 0
    /// Timer-topic record: its due time (enters the timer table).
    public var timerDue: Int64?
    /// Delivered copy of a delayed record: advances that level's progress or removes the timer entry.
    public var delivered: DeliveryMark?
    /// Whether the record adds more than its consume-queue entry: key-index, transaction, timer or delivery rows.
    public var hasSecondaryRows: Bool {
        keys != nil || uniqueKey != nil || transactionState != nil || timerDue != nil || delivered != nil
    }
    public init(queue: QueueKey?, entry: ConsumeQueueEntry, topic: String, keys: Range<Int>? = nil,
                uniqueKey: Range<Int>? = nil) {
        self.queue = queue; self.entry = entry; self.topic = topic; self.keys = keys; self.uniqueKey = uniqueKey
    }
}

public struct DispatchBatch: Sendable {
    public var records: [DispatchRecord]
    /// The records' KEYS and UNIQ_KEY bytes (`DispatchRecord.keys` / `.uniqueKey` are ranges of it).
    public var text: [UInt8]
    /// Commit-log offset the indexes are complete up to after this batch (end of its last record,
    /// or further when blanks were skipped).
    public var checkpoint: DispatchCheckpoint
    /// The batch follows damage in the log whose records (and queue offsets) are lost: a record may then start
    /// its queue past the queue's max, leaving a gap that readers step over. Otherwise a gap is an error.
    public var acceptsQueueGaps: Bool
    public init(records: [DispatchRecord], text: [UInt8] = [], checkpoint: DispatchCheckpoint,
                acceptsQueueGaps: Bool = false) {
        self.records = records; self.text = text; self.checkpoint = checkpoint; self.acceptsQueueGaps = acceptsQueueGaps
    }
}

public struct DispatchCheckpoint: Hashable, Sendable {
    /// Indexes cover every record that starts below this offset.
    public var offset: Int64
    /// Start offset of the last record covered (-1 when none): recovery re-validates it to detect an index
    /// that is ahead of the log.
    public var lastRecord: Int64
    public init(offset: Int64, lastRecord: Int64) { self.offset = offset; self.lastRecord = lastRecord }
    public static let zero = DispatchCheckpoint(offset: 0, lastRecord: -1)
}

public enum TransactionState: UInt8, Sendable, Equatable {
    /// `discarded`: no outcome after the maximum number of check-backs (moved to TRANS_CHECK_MAX_TIME_TOPIC).
    case half = 1, committed = 2, rolledBack = 3, discarded = 4
}

public struct ConsumerOffsetKey: Hashable, Sendable {
    public var group: String
    public var queue: QueueKey
    public init(group: String, queue: QueueKey) { self.group = group; self.queue = queue }
}

public struct IndexStatistics: Sendable, Equatable {
    public var queues: Int
    public var queueEntries: Int
    public var keyEntries: Int
    public var uniqueKeyEntries: Int
    public var transactionStates: Int
    public var consumerOffsets: Int
    public var bytesUsed: Int
    public var timers: Int
    public init(queues: Int, queueEntries: Int, keyEntries: Int, uniqueKeyEntries: Int, transactionStates: Int,
                consumerOffsets: Int, bytesUsed: Int, timers: Int = 0) {
        self.queues = queues; self.queueEntries = queueEntries; self.keyEntries = keyEntries
        self.uniqueKeyEntries = uniqueKeyEntries; self.transactionStates = transactionStates
        self.consumerOffsets = consumerOffsets; self.bytesUsed = bytesUsed; self.timers = timers
    }
}

/// A record's KEYS and UNIQ_KEY live in its batch's `text` buffer (`DispatchRecord.keys` / `.uniqueKey` are ranges
/// of it): the dispatcher reuses one buffer batch after batch, so deriving and indexing a record allocates nothing.
extension DispatchRecord {
    /// Appends `keys` (joined by spaces, as KEYS is stored) and `uniqueKey` to `text` and points the record at them.
    public mutating func setText(keys: [String], uniqueKey: String?, in text: inout [UInt8]) {
        self.keys = keys.isEmpty ? nil : Self.append(keys.joined(separator: " ").utf8, to: &text)
        self.uniqueKey = uniqueKey.flatMap { $0.isEmpty ? nil : Self.append($0.utf8, to: &text) }
    }

    static func append(_ bytes: some Collection<UInt8>, to text: inout [UInt8]) -> Range<Int> {
        let start = text.count
        text.append(contentsOf: bytes)
        return start..<text.count
    }

    /// Each key of KEYS: the value split at spaces, empty pieces skipped (Java's `MessageConst.KEY_SEPARATOR`).
    func forEachKey(in text: [UInt8], _ body: (ArraySlice<UInt8>) throws -> Void) rethrows {
        guard let keys else { return }
        var start = keys.lowerBound
        for i in keys where text[i] == 0x20 {
            if i > start { try body(text[start..<i]) }
            start = i + 1
        }
        if start < keys.upperBound { try body(text[start..<keys.upperBound]) }
    }

    /// KEYS as Strings (offline tools and the in-memory index; the dispatcher reads the bytes).
    public func keys(in text: [UInt8]) -> [String] {
        var out: [String] = []
        forEachKey(in: text) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    public func uniqueKey(in text: [UInt8]) -> String? {
        uniqueKey.map { String(decoding: text[$0], as: UTF8.self) }
    }
}

/// What `Dispatcher.derive` reuses from record to record: the batch's text buffer, and the last topic's String
/// with what derive asks of its name (a batch mostly names one topic, and a name over 15 bytes would otherwise be a
/// String allocated per record; the name comparisons ran per record too).
struct DeriveScratch {
    var text: [UInt8] = []
    private(set) var topic = ""
    /// What `topic` is, decided once per change of topic.
    private(set) var topicKind = TopicKind.plain
    /// `topic`'s UTF-8, compared as raw bytes (a String's UTF8View walks its bytes one checked step at a time).
    private var topicBytes: [UInt8] = []

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

    /// The record's topic, reusing the last one when the bytes are the same; `topicKind` follows it.
    mutating func topic(of r: RecordView) -> String {
        let bytes = r.topic
        let same = topicBytes.count == bytes.count && topicBytes.withUnsafeBytes { known in
            bytes.isEmpty || memcmp(known.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
        if !same {
            topic = String(decoding: bytes, as: UTF8.self)
            topicBytes = Array(bytes)
            topicKind = topic == DelayedDelivery.scheduleTopic ? .schedule
                : topic == DelayedDelivery.timerTopic ? .timer
                : topic.hasPrefix(TransactionRecords.topicPrefix) ? .transaction : .plain
        }
        return topic
    }
}
