import Foundation
import Synchronization
import TernMessage
import TernSystem

/// "TAGS", "KEYS" and "UNIQ_KEY" as their bytes load into a little-endian word: one compare per property name.
private let tagsWord: UInt32 = 0x5347_4154, keysWord: UInt32 = 0x5359_454B
private let uniqueKeyWord: UInt64 = 0x5945_4B5F_5149_4E55
private let timerOutName = Array(DelayedDelivery.timerOutProperty.utf8), deliveredName = Array(DelayedDelivery.deliveredProperty.utf8)

/// Derives index entries from commit-log records and applies them to the `IndexStore` in batches (one
/// transaction per batch, checkpoint included). Runs on its own thread; wakes on appends.
final class Dispatcher: Sendable {
    private let log: CommitLog
    private let index: any IndexStore
    private let batchLimit: Int
    /// What `derive` depends on besides the record (recorded in the index).
    private let derivation: DerivationConfig
    /// Next record offset to dispatch and the start of the last record dispatched.
    private let progress: Mutex<DispatchCheckpoint>
    private let dispatchedOffset = Atomic<Int64>(0)
    private let failure = Mutex<StoreError?>(nil)
    /// Set once `failure` is: every append reads this flag, not the lock.
    private let hasFailed = Atomic<Bool>(false)
    /// Subscribers told after each applied batch (long polling, internal consumers). Class references in one
    /// array: a bare closure kept in the generic `Mutex` went through reabstraction thunks on each load, and in
    /// release builds the thunks nested deeper on every dispatch batch (seen in perf as a chain of thunks eating
    /// a core). A class reference has one representation.
    let subscribers = DispatchSubscribers()
    /// Callers of `MessageStore.waitUntilDispatched`, resumed after the batch that covers their offset.
    let waiters = DispatchWaiters()
    private let worker = BackgroundThread(name: "tern-dispatch")
    /// Kept across batches (the thread's, or close's when the thread is not running: never both at once).
    private let buffers = Mutex(Replay.Buffers())
    /// `publish`'s tables, refilled in place batch after batch: each queue's new end, gathered without a hash
    /// per record, then the event's dictionary (reused once the subscribers let go of the last event).
    private let touchedQueues = Mutex<(tally: QueueTally<Int64>, event: [QueueKey: Int64])>((QueueTally(), [:]))

    private let observer: (any StoreObserver)?

    init(log: CommitLog, index: any IndexStore, batchLimit: Int, derivation: DerivationConfig,
         from checkpoint: DispatchCheckpoint, gatherMicros: Int = 0, observer: (any StoreObserver)? = nil) {
        self.observer = observer
        self.gatherMicros = gatherMicros
        self.derivation = derivation
        self.log = log
        self.index = index
        self.batchLimit = batchLimit
        self.progress = Mutex(checkpoint)
        dispatchedOffset.store(checkpoint.offset, ordering: .releasing)
    }

    /// How long the thread naps between batches while appends keep coming: `napPerRecord` times the last
    /// batch's size, within `napMin...napMax`. Each wakeup has a fixed cost (a context switch, an LMDB commit,
    /// the listener), which at a fixed 100 µs nap came to ~10 µs per message at 20 k msg/s (2-4 records per
    /// batch); the nap grows with the batch until `napMax`, so batches grow and the fixed cost is shared.
    ///
    /// Only a batch of at least `napBatchMin` records naps. A smaller one means the rate is low enough that a
    /// wake-up per batch costs little, and a nap would only delay the next messages: each nap is a voluntary
    /// sleep taken while appends are pending, and on a loaded machine getting the CPU back after it can take
    /// milliseconds (the end-to-end tail). Such a batch is followed at once by the next one when appends came
    /// meanwhile, else by the idle sleep that the next append ends.
    static let napMin = 0.000_1, napMax = 0.001, napPerRecord = 0.000_05, napBatchMin = 16

    /// Idle: every append wakes the thread (`wake()`), so this bound only caps a wake-up lost to a bug.
    static let idleSleepMillis = 1_000

    /// Gathering: woken from idle by an append, the thread gives later records up to `gatherMicros` to join the
    /// batch before its index commit, and commits at once when `gatherBytes` are pending (the append that passes
    /// it wakes the thread). At moderate rates a batch otherwise held one or two records, and the commit (an LMDB
    /// transaction and its file writes) was most of the dispatcher's cost per message; an append meanwhile also
    /// skips its futex wake. Bounds the added indexing delay of a record to `gatherMicros` (0: no gathering).
    private let gatherMicros: Int
    static let gatherBytes: Int64 = 64 << 10
    /// True while the thread gathers: `wake()` then signals only once `gatherBytes` are pending.
    private let gathering = Atomic<Bool>(false)

    static func nap(afterBatchOf records: Int) -> Double {
        min(napMax, max(napMin, Double(records) * napPerRecord))
    }

    var dispatched: Int64 { dispatchedOffset.load(ordering: .acquiring) }
    var failed: StoreError? { hasFailed.load(ordering: .acquiring) ? failure.withLock { $0 } : nil }

    func start() {
        worker.start { [self] t in
            while t.isRunning {
                do {
                    let records = try dispatchAvailable()
                    if records >= Self.napBatchMin {
                        // Busy: nap without raising the sleeping flag, so appends meanwhile skip the futex
                        // wake (a syscall on the event loop per message) and land in one larger batch (one
                        // LMDB commit). Bounds the added indexing delay to the nap.
                        Thread.sleep(forTimeInterval: Self.nap(afterBatchOf: records))
                    } else {
                        // Caught up (the re-check skips the sleep when appends came meanwhile).
                        t.sleep(maxMillis: Self.idleSleepMillis) { log.writePosition > dispatched }
                        gather()
                    }
                } catch {
                    failure.withLock { $0 = StoreError.wrap(error) }
                    hasFailed.store(true, ordering: .releasing)
                    waiters.releaseAll()
                    t.sleep(maxMillis: 1000)
                }
            }
        }
    }

    /// Wakes the thread (cheap when it is busy); while it gathers, only once `gatherBytes` are pending.
    func wake() {
        if gathering.load(ordering: .acquiring), log.writePosition - dispatched < Self.gatherBytes { return }
        worker.wake()
    }

    /// Waits up to `gatherMicros` for more records when some, but fewer than `gatherBytes`, are pending.
    private func gather() {
        let pending = { [log] in log.writePosition - self.dispatched }
        let now = pending()  // one read decides whether to wait; the wait's condition reads again
        guard gatherMicros > 0, now > 0, now < Self.gatherBytes else { return }
        gathering.store(true, ordering: .releasing)
        worker.sleep(maxMicros: gatherMicros) { pending() >= Self.gatherBytes }
        gathering.store(false, ordering: .releasing)
    }

    /// Moves progress back after the log was truncated to `checkpoint.offset`. The caller held the writer
    /// while the thread caught up with the old end, so no batch of erased records is in flight.
    func rewind(to checkpoint: DispatchCheckpoint) {
        progress.withLock { $0 = checkpoint }
        dispatchedOffset.store(checkpoint.offset, ordering: .releasing)
    }

    func stop() {
        worker.stop()
    }

    /// Dispatches everything published so far, batch by batch, through the store's one replay loop (no CRC:
    /// this process wrote these bytes). Returns the number of records dispatched. Called by the thread, and by
    /// close when the thread is not running.
    @discardableResult
    func dispatchAvailable() throws -> Int {
        var total = 0
        let replay = Replay(log: log, index: index, derivation: derivation, batchLimit: batchLimit, checkCRC: false)
        while true {
            let limit = log.writePosition
            let start = progress.withLock { $0 }
            guard start.offset < limit else { return total }
            var batchStart = Clock.monotonicNanos()
            let out = try buffers.withLock { buffers in
                try replay.run(from: start, limit: limit, buffers: &buffers, batchApplied: { batch in
                    let cp = batch.checkpoint
                    if let observer {
                        let now = Clock.monotonicNanos()
                        observer.dispatched(records: batch.records.count, nanos: now &- batchStart)
                        batchStart = now
                    }
                    progress.withLock { $0 = cp }
                    dispatchedOffset.store(cp.offset, ordering: .releasing)
                    waiters.resume(upTo: cp.offset)
                    publish(batch)
                })
            }
            if case let .invalid(why) = out.stop {
                throw StoreError.corruptRecord(physicalOffset: out.checkpoint.offset, reason: "\(why)")
            }
            // Zeros below the write position are never a record to wait for (bytes are published complete): a
            // hole is damage, reported instead of retried for ever.
            if out.stop == .endOfData, out.checkpoint.offset < limit, out.checkpoint.offset == start.offset {
                throw StoreError.corruptRecord(physicalOffset: out.checkpoint.offset,
                                               reason: "no record where the log is published up to \(limit)")
            }
            total += out.records
        }
    }

    /// Tells the subscribers which queues the applied batch advanced.
    private func publish(_ batch: DispatchBatch) {
        let subs = subscribers.current
        guard !subs.isEmpty, !batch.records.isEmpty else { return }
        let event = touchedQueues.withLock { touched in
            touched.tally.removeAll()
            for r in batch.records where r.consumable { touched.tally.set(r.batchQueue, r.entry.queueOffset + 1) }
            touched.event.removeAll(keepingCapacity: true)
            for (q, end) in zip(touched.tally.keys, touched.tally.values) { touched.event[batch.queueKey(q)] = end }
            return DispatchEvent(dispatchedOffset: batch.checkpoint.offset, queues: touched.event)
        }
        for s in subs { s.handler(event) }
    }

    /// What the indexes learn from one record; its KEYS and UNIQ_KEY bytes are appended to `scratch.text`.
    /// A pure function of the record, its offset and `derivation` (which the index records: see `DerivationConfig`).
    static func derive(_ offset: Int64, _ r: RecordView, _ derivation: DerivationConfig,
                       _ scratch: inout DeriveScratch) -> DispatchRecord {
        let topic = scratch.topic(of: r), kind = scratch.currentKind
        let tt = SysFlag.transactionType(r.sysFlag)
        // One pass over the properties for TAGS, KEYS and UNIQ_KEY (the last occurrence wins, as in Java).
        var tags: UnsafeRawBufferPointer?, keyBytes: UnsafeRawBufferPointer?, uniqueBytes: UnsafeRawBufferPointer?
        var timerOut: UnsafeRawBufferPointer?, delivered: UnsafeRawBufferPointer?
        MessageProperties.forEachEntry(in: r.properties) { name, value in
            switch name.count {
            case 4:
                let word = UInt32(littleEndian: name.loadUnaligned(as: UInt32.self))
                if word == tagsWord { tags = value } else if word == keysWord { keyBytes = value }
            case 8 where UInt64(littleEndian: name.loadUnaligned(as: UInt64.self)) == uniqueKeyWord: uniqueBytes = value
            case 12 where name.elementsEqual(timerOutName): timerOut = value
            case 14 where name.elementsEqual(deliveredName): delivered = value
            default: break
            }
            return true
        }
        var tagCode: Int64 = tags.map { Int64(TagHash.javaHashCode(utf8: $0)) } ?? 0
        // Schedule queue N-1 holds level N: the tag code is the due time (Java's ScheduleMessageService rule).
        let isSchedule = kind == .schedule
        if isSchedule { tagCode = r.storeTimestamp + DelayedDelivery.delayMillis(level: Int(r.queueId) + 1, derivation.delayLevelMillis) }
        let entry = ConsumeQueueEntry(queueOffset: r.queueOffset, physicalOffset: offset, size: r.totalSize,
                                      tagCode: tagCode, storeTimestamp: r.storeTimestamp)
        let consumable = tt == SysFlag.transactionNot || tt == SysFlag.transactionCommit
        var d = DispatchRecord(topic: topic, queueId: r.queueId, consumable: consumable, entry: entry)
        if tt != SysFlag.transactionRollback {
            if let k = keyBytes, !k.isEmpty { d.keys = DispatchRecord.append(k, to: &scratch.text) }
            if let u = uniqueBytes, !u.isEmpty { d.uniqueKey = DispatchRecord.append(u, to: &scratch.text) }
        }
        if kind == .timer, let t = timerOut {
            d.timerDue = Int64(String(decoding: t, as: UTF8.self))
        }
        if let m = delivered { d.delivered = DeliveryMark(m) }
        switch tt {
        case SysFlag.transactionPrepared: d.transactionState = .half; d.transactionOffset = offset
        case SysFlag.transactionCommit where r.preparedTransactionOffset > 0:
            d.transactionState = .committed; d.transactionOffset = r.preparedTransactionOffset
        case SysFlag.transactionRollback where r.preparedTransactionOffset > 0:
            d.transactionState = .rolledBack; d.transactionOffset = r.preparedTransactionOffset
        default: break
        }
        if kind == .transaction { TransactionRecords.derive(&d, scratch.topic(topic), offset, r) }
        return d
    }
}

/// What one dispatch batch made visible to readers.
public struct DispatchEvent: Sendable {
    /// The indexes are complete below this log offset.
    public let dispatchedOffset: Int64
    /// Each consume queue the batch touched, with its new max offset (the next offset to be assigned).
    public let queues: [QueueKey: Int64]
}

/// One subscriber of dispatch events (see `MessageStore.subscribe`). Dropping it does not unsubscribe:
/// call `cancel()`.
public final class DispatchSubscription: Sendable {
    let name: String
    let handler: @Sendable (DispatchEvent) -> Void
    private weak let owner: DispatchSubscribers?

    init(name: String, handler: @escaping @Sendable (DispatchEvent) -> Void, owner: DispatchSubscribers) {
        self.name = name
        self.handler = handler
        self.owner = owner
    }

    /// Stops delivery; an event being delivered at this moment may still arrive.
    public func cancel() {
        owner?.remove(self)
    }
}

/// The dispatcher's subscriber list.
final class DispatchSubscribers: Sendable {
    private let list = Mutex<[DispatchSubscription]>([])
    var current: [DispatchSubscription] { list.withLock { $0 } }
    func add(_ s: DispatchSubscription) { list.withLock { $0.append(s) } }
    func remove(_ s: DispatchSubscription) { list.withLock { $0.removeAll { $0 === s } } }
}
