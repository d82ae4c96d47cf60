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
public struct ConsumeQueueEntry: Hashable, Sendable, BitwiseCopyable {
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

/// What the dispatcher derived from one commit-log record. Plain bits (no references): a batch's records are
/// built, moved and dropped without reference counting, and the compiler copies them as memory. The topic is a
/// position in the batch's `topics` (``DispatchBatch/topic(of:)``, ``DispatchBatch/queue(of:)``).
public struct DispatchRecord: Sendable, Equatable, BitwiseCopyable {
    /// The record's topic: `DispatchBatch.topics[topic]`.
    public var topic: Int32
    public var queueId: Int32
    /// False for records that do not enter a consume queue (prepared / rolled-back transaction types).
    public var consumable: Bool
    public var entry: ConsumeQueueEntry
    /// The KEYS value as stored (keys separated by spaces) and the UNIQ_KEY: ranges of the batch's `text`
    /// (`DispatchBatch.text`), so deriving and indexing a record builds no String or array per record.
    /// nil when absent (and for rolled-back transaction records, which the key indexes skip).
    public var keys: Range<Int>? {
        get { keySpan.range }
        set { keySpan = TextSpan(newValue) }
    }
    public var uniqueKey: Range<Int>? {
        get { uniqueKeySpan.range }
        set { uniqueKeySpan = TextSpan(newValue) }
    }
    /// `keys` and `uniqueKey` as stored (`Range` is not `BitwiseCopyable`).
    private var keySpan = TextSpan.none, uniqueKeySpan = TextSpan.none
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
        keySpan.start >= 0 || uniqueKeySpan.start >= 0 || transactionState != nil || timerDue != nil || delivered != nil
    }
    /// The record's queue within its batch (the same whether or not the record is consumable).
    public var batchQueue: BatchQueue { BatchQueue(topic: topic, queueId: queueId) }
    /// The consume queue the record enters, its topic named by `topics` (its batch's table); nil when it enters none.
    public func queue(in topics: [String]) -> QueueKey? {
        consumable ? QueueKey(topic: topics[Int(topic)], queueId: queueId) : nil
    }
    public init(topic: Int32 = 0, queueId: Int32, consumable: Bool = true, entry: ConsumeQueueEntry,
                keys: Range<Int>? = nil, uniqueKey: Range<Int>? = nil) {
        self.topic = topic; self.queueId = queueId; self.consumable = consumable; self.entry = entry
        self.keys = keys; self.uniqueKey = uniqueKey
    }
}

/// A range of a batch's text (`start` -1: none). A batch's text stays below 2 GiB (`DeriveScratch.textLimit`).
struct TextSpan: Equatable, BitwiseCopyable {
    var start: Int32
    var end: Int32
    static let none = TextSpan(start: -1, end: -1)
    init(start: Int32, end: Int32) { self.start = start; self.end = end }
    init(_ range: Range<Int>?) {
        guard let range else { self = .none; return }
        precondition(range.upperBound <= Int(Int32.max), "a batch's text stays below 2 GiB")
        self.init(start: Int32(range.lowerBound), end: Int32(range.upperBound))
    }
    var range: Range<Int>? { start < 0 ? nil : Int(start)..<Int(end) }
}

/// A queue named within one batch: its topic's position in `DispatchBatch.topics` and its id. Compared and hashed
/// as two integers (``QueueKey`` hashes the topic's bytes).
public struct BatchQueue: Hashable, Sendable, BitwiseCopyable {
    public var topic: Int32
    public var queueId: Int32
    public init(topic: Int32, queueId: Int32) { self.topic = topic; self.queueId = queueId }
}

public struct DispatchBatch: Sendable {
    public var records: [DispatchRecord]
    /// The topics the records name by position. May hold topics no record of this batch names.
    public var topics: [String]
    /// The records' KEYS and UNIQ_KEY bytes (`DispatchRecord.keys` / `.uniqueKey` are ranges of it).
    public var text: [UInt8]
    /// Commit-log offset the indexes are complete up to after this batch (end of its last record,
    /// or further when blanks were skipped).
    public var checkpoint: DispatchCheckpoint
    /// The batch follows damage in the log whose records (and queue offsets) are lost: a record may then start
    /// its queue past the queue's max, leaving a gap that readers step over. Otherwise a gap is an error.
    public var acceptsQueueGaps: Bool
    public init(records: [DispatchRecord], topics: [String] = [], text: [UInt8] = [], checkpoint: DispatchCheckpoint,
                acceptsQueueGaps: Bool = false) {
        self.records = records; self.topics = topics; self.text = text; self.checkpoint = checkpoint
        self.acceptsQueueGaps = acceptsQueueGaps
    }

    public func topic(of r: DispatchRecord) -> String { topics[Int(r.topic)] }
    public func queueKey(_ q: BatchQueue) -> QueueKey { QueueKey(topic: topics[Int(q.topic)], queueId: q.queueId) }
    /// The consume queue `r` enters; nil when it enters none.
    public func queue(of r: DispatchRecord) -> QueueKey? { r.queue(in: topics) }
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

public enum TransactionState: UInt8, Sendable, Equatable, BitwiseCopyable {
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
