import Synchronization
import TernSystem

/// `IndexStore` in LMDB (layouts in IndexKeys.swift).
///
/// Durability: the environment is opened MDB_NOSYNC — commits reach the OS page cache (they survive
/// `kill -9`) and become durable at `sync()`, which the store calls on every log flush and on close.
/// MDB_WRITEMAP: pages are changed in place in the shared map, so a commit writes no page through pwrite (each
/// queue a batch reaches had cost a 4 KiB page write per commit). The map only ever covers blocks reserved with
/// posix_fallocate (`LMDBEnvironment+MapGrowth.swift`), so a full file system is an error code (ENOSPC from
/// posix_fallocate, or MDB_MAP_FULL at the configured map size), which stops the dispatcher and fences appends,
/// never SIGBUS. Every `env.write` body may run twice (after the map grew) and leaves no effect outside the
/// transaction before it returns. MDB_NOSYNC with MDB_WRITEMAP lets the kernel write the map's pages back in any
/// order, so a machine crash between syncs may tear the index (lmdb.h), as pwrite'n pages without a sync could:
/// it is derived, and an index LMDB reports corrupt at open is set aside and rebuilt from the log.
/// After a machine crash the derived tables may lag the log; recovery replays the log past the checkpoint.
///
/// Caches: queue ids and [min, max) ranges live in memory (loaded at open, updated after each commit), so
/// range queries never touch LMDB; `apply` is called by one thread only.
public final class LMDBIndexStore: IndexStore {
    let env: LMDBEnvironment
    let meta, queuesDB, cq, keys, uniq, txn, offsets, timer: LMDBDatabase

    private struct QueueSlot { var id: UInt32; var min: Int64; var max: Int64 }
    private struct Cache {
        var queues: [QueueKey: QueueSlot] = [:]
        var nextQueueId: UInt32 = 1
        /// Hours that hold key-index or unique-key entries, ascending.
        var hours: [UInt32] = []
        var minPhysical: Int64 = 0
    }
    private let cache = Mutex(Cache())

    /// True when this open found the consume queues in an older layout (a table `cq` keyed id + offset) and dropped
    /// them with every other derived table (consumer offsets kept): recovery then rebuilds them from the log.
    public let droppedOlderLayout: Bool

    /// The most the map may grow to (data.mdb is allocated a quarter ahead of use, at least 8 MiB). Index entries take
    /// roughly 100-200 bytes per message (queue entry plus keys), so this holds on the order of a billion
    /// messages between retention passes.
    public static let defaultMapSize = 1 << 38

    /// Opens (creating when missing) the index at `path` (a directory). `readOnly` for offline tools.
    public init(path: String, mapSize: Int = LMDBIndexStore.defaultMapSize, readOnly: Bool = false) throws {
        env = try LMDBEnvironment(path: path, mapSize: mapSize, maxDatabases: 16,
                                  flags: readOnly ? [.readOnly] : [.noSync, .writeMap])
        let create: LMDBDatabase.Flags = readOnly ? [] : [.create]
        if !readOnly {
            // Create every table up front so read-only tools can open them all.
            try env.write { _ in }
        }
        let older = try env.existingDatabase("cq")
        if older != nil && readOnly {
            throw LMDBError(function: "open index", code: -30784 /* MDB_INCOMPATIBLE */, message: """
                consume queues in an older layout (table "cq"); open the store once with the broker or run \
                `tern-inspect rebuild-index` to rebuild them from the log
                """, path: path)
        }
        meta = try env.openDatabase("meta", create)
        queuesDB = try env.openDatabase("queues", create)
        cq = try env.openDatabase("queueEntries", create.union([.dupSort, .dupFixed]))
        keys = try env.openDatabase("keys", create.union([.dupSort, .dupFixed]))
        uniq = try env.openDatabase("uniq", create.union([.dupSort, .dupFixed]))
        txn = try env.openDatabase("txn", create)
        offsets = try env.openDatabase("offsets", create)
        timer = try env.openDatabase("timer", create)
        droppedOlderLayout = older != nil
        if let older {
            try env.write { t in
                try t.drop(older)
                try clearDerived(t)
            }
        }
        try loadCache()
    }

    private func loadCache() throws {
        var c = Cache()
        try env.read { t in
            if let v = try t.get(meta, IndexKeys.nextQueueId), v.count == 4 {
                c.nextQueueId = v.withUnsafeBytes { $0.loadBigEndian(UInt32.self, at: 0) }
            }
            if let v = try t.get(meta, IndexKeys.minPhysical), v.count == 8 {
                c.minPhysical = v.withUnsafeBytes { Int64(bitPattern: $0.loadBigEndian(UInt64.self, at: 0)) }
            }
            var found: [(QueueKey, UInt32, Int64)] = []
            try t.withCursor(queuesDB) { cur in
                var e = try cur.first()
                while let (k, v) = e {
                    if let q = IndexKeys.decodeQueueKey(k), v.count == 12 {
                        found.append((q, v.loadBigEndian(UInt32.self, at: 0), Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 4))))
                    }
                    e = try cur.next()
                }
            }
            try t.withCursor(cq) { cur in
                for (q, id, min) in found {
                    c.queues[q] = QueueSlot(id: id, min: min,
                                            max: try Self.lastEntry(cur, id: id).map { $0.queueOffset + 1 } ?? min)
                }
            }
            c.hours = try Self.distinctHours(t, keys).union(Self.distinctHours(t, uniq)).sorted()
        }
        cache.withLock { $0 = c }
    }

    /// Queue `id`'s last entry (its last duplicate), the cursor left on it; nil when the queue has none.
    private static func lastEntry(_ cur: LMDBCursor, id: UInt32) throws -> ConsumeQueueEntry? {
        guard try cur.find(u32(id)) != nil, let (_, v) = try cur.lastDuplicate() else { return nil }
        return decodeQueueEntry(v)
    }

    private static func distinctHours(_ t: LMDBTransaction, _ db: LMDBDatabase) throws -> Set<UInt32> {
        var hours = Set<UInt32>()
        try t.withCursor(db) { cur in
            var e = try cur.first()
            while let (k, _) = e, k.count >= 4 {
                let h = k.loadBigEndian(UInt32.self, at: 0)
                hours.insert(h)
                guard h < UInt32.max else { break }
                var next = [UInt8](); next.appendBigEndian(h + 1)
                e = try cur.seek(next)
            }
        }
        return hours
    }

    // MARK: Dispatch

    /// What `apply` reuses batch after batch: the queues the batch advanced (their slots as of the batch's end)
    /// and the bytes of each variable-length key (KEYS, UNIQ_KEY) and of the checkpoint. Fixed-size rows are built
    /// on the stack. Only the dispatcher thread applies (the lock is uncontended).
    private struct ApplyScratch {
        var touched = QueueTally<QueueSlot>()
        /// `queues[i]` names `touched`'s i-th queue.
        var queues: [QueueKey] = []
        var newHours: [UInt32] = []
        var key: [UInt8] = []
        var value: [UInt8] = []
        /// The batch's consume-queue values, by queue position in `touched`.
        var entries = QueueEntryStaging(valueBytes: LMDBIndexStore.entryBytes)
    }
    private let scratch = Mutex(ApplyScratch())

    public func apply(_ batch: DispatchBatch) throws {
        try scratch.withLock { s in
            let (firstNewId, firstLastHour) = cache.withLock { ($0.nextQueueId, $0.hours.last) }
            var nextQueueId = firstNewId
            // The body may run twice (the map grown after MDB_MAP_FULL): it starts from the cache each time.
            try env.write { t in
                s.touched.removeAll()
                s.queues.removeAll(keepingCapacity: true)
                s.newHours.removeAll(keepingCapacity: true)
                s.entries.removeAll()
                nextQueueId = firstNewId
                var lastHour = firstLastHour
                for r in batch.records {
                    if r.consumable { try applyEntry(r.entry, queue: r.batchQueue, batch, &s, &nextQueueId, t) }
                    guard r.hasSecondaryRows else { continue }
                    if r.keys != nil || r.uniqueKey != nil {
                        let h = IndexKeys.hour(r.entry.storeTimestamp)
                        if lastHour.map({ $0 < h }) ?? true { s.newHours.append(h); lastHour = h }
                        // Value: store time(8) physical offset(8), on the stack.
                        try withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { v in
                            v.storeBigEndian(UInt64(bitPattern: r.entry.storeTimestamp), at: 0)
                            v.storeBigEndian(UInt64(bitPattern: r.entry.physicalOffset), at: 8)
                            let value = UnsafeRawBufferPointer(v)
                            try r.forEachKey(in: batch.text) { k in
                                IndexKeys.bucketedKey(hour: h, topic: batch.topic(of: r), k, into: &s.key)
                                try s.key.withUnsafeBytes { try t.put(keys, $0, value) }
                            }
                            if let u = r.uniqueKey {
                                IndexKeys.bucketedKey(hour: h, batch.text[u], into: &s.key)
                                try s.key.withUnsafeBytes { try t.put(uniq, $0, value) }
                            }
                        }
                    }
                    if let state = r.transactionState {
                        let key = Self.u64(r.transactionOffset)
                        if state == .half && r.transactionChecks == 0 {
                            try t.put(txn, key, [state.rawValue])
                        } else if let v = try t.get(txn, key), v.first == TransactionState.half.rawValue {
                            // Value: state(1) checks(4); a check record raises the count, an outcome keeps it.
                            var value = [state.rawValue]
                            value.appendBigEndian(r.transactionChecks > 0 ? r.transactionChecks : Self.checks(v))
                            try t.put(txn, key, value)
                        }
                    }
                    if r.timerDue != nil || r.delivered != nil { try applyDelivery(r, t) }
                }
                // Each queue's entries in one call (see QueueEntryStaging), after its last duplicate: LMDB walks only
                // that queue's sub-tree to its last page, and splits a full page at its end, not in half.
                let ids = s.touched.values
                try t.withCursor(cq) { cur in
                    try s.entries.forEachRun(queueCount: ids.count) { i, run in
                        try withUnsafeTemporaryAllocation(byteCount: 4, alignment: 4) { key in
                            key.storeBigEndian(ids[i].id, at: 0)
                            try cur.appendDuplicates(UnsafeRawBufferPointer(key), run, size: Self.entryBytes)
                        }
                    }
                }
                if nextQueueId != firstNewId { try t.put(meta, IndexKeys.nextQueueId, Self.u32(nextQueueId)) }
                s.value.removeAll(keepingCapacity: true)
                s.value.appendBigEndian(UInt64(bitPattern: batch.checkpoint.offset))
                s.value.appendBigEndian(UInt64(bitPattern: batch.checkpoint.lastRecord))
                try t.put(meta, IndexKeys.checkpoint, s.value)
            }
            // Committed: the cached ranges follow. Only `max` moves (retention may have raised a `min` meanwhile).
            cache.withLock { c in
                for (q, slot) in zip(s.queues, s.touched.values) {
                    if let i = c.queues.index(forKey: q) { c.queues.values[i].max = slot.max } else { c.queues[q] = slot }
                }
                c.nextQueueId = nextQueueId
                for h in s.newHours where c.hours.last.map({ $0 < h }) ?? true { c.hours.append(h) }
            }
        }
    }

    /// One consume-queue entry of `apply`: the queue's slot (created on first sight), the gap check, the put.
    private func applyEntry(_ e: ConsumeQueueEntry, queue bq: BatchQueue, _ batch: DispatchBatch, _ s: inout ApplyScratch,
                            _ nextQueueId: inout UInt32, _ t: LMDBTransaction) throws {
        let i: Int
        if let found = s.touched.position(of: bq) {
            i = found
        } else {
            let q = batch.queueKey(bq)
            let slot: QueueSlot
            if let cached = cache.withLock({ $0.queues[q] }) {
                slot = cached
            } else {
                slot = QueueSlot(id: nextQueueId, min: e.queueOffset, max: e.queueOffset)
                nextQueueId += 1
                try t.put(queuesDB, IndexKeys.queueKey(q), Self.queueValue(slot))
            }
            i = s.touched.append(bq, slot)
            s.queues.append(q)
        }
        let slot = s.touched.values[i]
        guard e.queueOffset == slot.max || (batch.acceptsQueueGaps && e.queueOffset > slot.max) else {
            throw StoreError.queueGap(queue: s.queues[i], found: e.queueOffset, expected: slot.max,
                                      physicalOffset: e.physicalOffset)
        }
        // The value offset(8) + entry(28), built on the stack (every byte written) and staged for the batch's put
        // of this queue. The gap check above keeps a queue's offsets ascending.
        withUnsafeTemporaryAllocation(byteCount: Self.entryBytes, alignment: 8) { row in
            row.storeBigEndian(UInt64(bitPattern: e.queueOffset), at: 0)
            Self.encodeEntry(e, into: UnsafeMutableRawBufferPointer(rebasing: row[8...]))
            s.entries.stage(UnsafeRawBufferPointer(row), queue: i)
        }
        s.touched.values[i].max = e.queueOffset + 1
    }

    /// Bytes of one consume-queue value: offset(8) + entry(28).
    static let entryBytes = 36

    public func checkpoint() throws -> DispatchCheckpoint {
        try env.read { t in try Self.readCheckpoint(t, meta) }
    }

    public func truncate(from physicalOffset: Int64, lastRecord: Int64) throws {
        let cached = cache.withLock { $0 }
        var c = cached
        try env.write { t in
            c = cached  // the body may run twice (the map grown after MDB_MAP_FULL)
            try t.withCursor(cq) { cur in
                for (q, var slot) in c.queues {
                    // From the queue's last entry back (offsets may have a gap after damaged log records).
                    while slot.max > slot.min, let last = try Self.lastEntry(cur, id: slot.id),
                          last.physicalOffset >= physicalOffset {
                        try cur.deleteCurrent()
                        slot.max = last.queueOffset
                    }
                    c.queues[q] = slot
                }
            }
            // Log order == time order, so only the newest hours can hold entries at or past the cut: sweep hours
            // newest first and stop after the first hour that also holds older entries.
            // (LMDB: after mdb_cursor_del the cursor already sits on the next entry and MDB_NEXT returns it.)
            for db in [keys, uniq] {
                try t.withCursor(db) { cur in
                    for h in c.hours.reversed() {
                        var sawOlder = false
                        var start = [UInt8](); start.appendBigEndian(h)
                        var e = try cur.seek(start)
                        while let (k, v) = e, k.loadBigEndian(UInt32.self, at: 0) == h {
                            if Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 8)) >= physicalOffset {
                                try cur.deleteCurrent()
                            } else {
                                sawOlder = true
                            }
                            e = try cur.next()
                        }
                        if sawOlder { break }
                    }
                }
            }
            try t.withCursor(txn) { cur in
                var e = try cur.seek(Self.u64(physicalOffset))
                while e != nil { try cur.deleteCurrent(); e = try cur.next() }
            }
            try deleteTimers(t) { $0 >= physicalOffset }
            let current = try Self.readCheckpoint(t, meta)
            if current.offset > physicalOffset {
                try t.put(meta, IndexKeys.checkpoint,
                          Self.checkpointValue(DispatchCheckpoint(offset: physicalOffset, lastRecord: lastRecord)))
            }
        }
        c.hours = try env.read { t in try Self.distinctHours(t, keys).union(Self.distinctHours(t, uniq)).sorted() }
        cache.withLock { $0 = c }
    }

    public func deleteBelow(_ physicalOffset: Int64, firstStoreTimestamp: Int64) throws {
        let cached = cache.withLock { $0 }
        var c = cached
        try env.write { t in
            c = cached  // the body may run twice (the map grown after MDB_MAP_FULL)
            try t.withCursor(cq) { cur in
                for (q, var slot) in c.queues where slot.min < slot.max {
                    // From the queue's first duplicate on; once its last is deleted, MDB_NEXT lands on another id.
                    var e = try cur.find(Self.u32(slot.id)) != nil ? try cur.firstDuplicate() : nil
                    while let (k, v) = e, k.count == 4, k.loadBigEndian(UInt32.self, at: 0) == slot.id {
                        let entry = Self.decodeQueueEntry(v)
                        guard entry.physicalOffset < physicalOffset else { break }
                        try cur.deleteCurrent()
                        slot.min = entry.queueOffset + 1
                        e = try cur.next()
                    }
                    c.queues[q] = slot
                    try t.put(queuesDB, IndexKeys.queueKey(q), Self.queueValue(slot))
                }
            }
            // Drop whole hours before the first remaining record's hour (all their records are older); entries
            // of the boundary hour that point below the cut are filtered at lookup (`minPhysical`).
            let firstKeptHour = IndexKeys.hour(firstStoreTimestamp)
            for db in [keys, uniq] {
                try t.withCursor(db) { cur in
                    var e = try cur.first()
                    while let (k, _) = e, k.loadBigEndian(UInt32.self, at: 0) < firstKeptHour {
                        try cur.deleteCurrent()
                        e = try cur.next()
                    }
                }
            }
            try t.withCursor(txn) { cur in
                var e = try cur.first()
                while let (k, _) = e, Int64(bitPattern: k.loadBigEndian(UInt64.self, at: 0)) < physicalOffset {
                    try cur.deleteCurrent()
                    e = try cur.next()
                }
            }
            try deleteTimers(t) { $0 < physicalOffset }
            c.minPhysical = max(c.minPhysical, physicalOffset)
            try t.put(meta, IndexKeys.minPhysical, Self.u64(c.minPhysical))
        }
        c.hours = try env.read { t in try Self.distinctHours(t, keys).union(Self.distinctHours(t, uniq)).sorted() }
        cache.withLock { $0 = c }
    }

    public func clearDerived() throws {
        try env.write { t in try clearDerived(t) }
        cache.withLock { $0 = Cache() }
    }

    /// Empties every table derived from the log (all but `offsets`) inside `t`.
    private func clearDerived(_ t: LMDBTransaction) throws {
        for db in [meta, queuesDB, cq, keys, uniq, txn, timer] { try t.clear(db) }
    }

    // MARK: Consume queues

    public func queues() throws -> [QueueKey: QueueRange] {
        cache.withLock { c in c.queues.mapValues { QueueRange(min: $0.min, max: $0.max) } }
    }

    public func queueRange(_ queue: QueueKey) throws -> QueueRange? {
        cache.withLock { c in c.queues[queue].map { QueueRange(min: $0.min, max: $0.max) } }
    }

    public func entries(_ queue: QueueKey, from: Int64, maxCount: Int) throws -> [ConsumeQueueEntry] {
        guard let slot = cache.withLock({ $0.queues[queue] }), maxCount > 0 else { return [] }
        let start = max(from, slot.min)
        guard start < slot.max else { return [] }
        var out: [ConsumeQueueEntry] = []
        out.reserveCapacity(min(maxCount, Int(slot.max - start)))
        try env.read { t in
            try t.withCursor(cq) { cur in
                // The first duplicate >= the 8-byte offset prefix is the entry at `start` (or the next one). Key
                // and prefix on the stack: a pull allocates no arrays for them.
                var e = try withUnsafeTemporaryAllocation(byteCount: 12, alignment: 8) { probe in
                    probe.storeBigEndian(slot.id, at: 0)
                    probe.storeBigEndian(UInt64(bitPattern: start), at: 4)
                    return try cur.seekDuplicate(UnsafeRawBufferPointer(rebasing: probe[0..<4]),
                                                 UnsafeRawBufferPointer(rebasing: probe[4..<12]))
                }
                while let (_, v) = e, out.count < maxCount {
                    let entry = Self.decodeQueueEntry(v)
                    guard entry.queueOffset < slot.max else { break }
                    out.append(entry)
                    e = try cur.nextDuplicate()
                }
            }
        }
        return out
    }

    // MARK: Keys

    public func lookupKey(topic: String, key: String, beginTimestamp: Int64, endTimestamp: Int64, limit: Int) throws -> [Int64] {
        try lookup(keys, topic + "#" + key, beginTimestamp, endTimestamp, limit)
    }

    public func lookupUniqueKey(_ uniqueKey: String, limit: Int) throws -> [Int64] {
        try lookup(uniq, uniqueKey, .min, .max, limit)
    }

    private func lookup(_ db: LMDBDatabase, _ text: String, _ begin: Int64, _ end: Int64, _ limit: Int) throws -> [Int64] {
        let (hours, minPhysical) = cache.withLock { ($0.hours, $0.minPhysical) }
        let lo = IndexKeys.hour(begin), hi = IndexKeys.hour(end)
        var out: [Int64] = []
        guard limit > 0 else { return out }
        try env.read { t in
            try t.withCursor(db) { cur in
                for h in hours.reversed() where h >= lo && h <= hi {
                    guard try cur.find(IndexKeys.bucketedKey(hour: h, text)) != nil else { continue }
                    var e = try cur.lastDuplicate()
                    while let (_, v) = e, out.count < limit {
                        let time = Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 0))
                        let phys = Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 8))
                        if time < begin || phys < minPhysical { break }
                        if time <= end { out.append(phys) }
                        e = try cur.previousDuplicate()
                    }
                    if out.count >= limit { return }
                }
            }
        }
        return out
    }

    // MARK: Transactions

    public func setTransactionState(_ physicalOffset: Int64, _ state: TransactionState) throws {
        try env.write { t in _ = try t.put(txn, Self.u64(physicalOffset), [state.rawValue]) }
    }

    public func transactionState(_ physicalOffset: Int64) throws -> TransactionState? {
        try env.read { t in try t.get(txn, Self.u64(physicalOffset)).flatMap { $0.first.flatMap(TransactionState.init) } }
    }

    public func transactionChecks(_ physicalOffset: Int64) throws -> Int32 {
        try env.read { t in try t.get(txn, Self.u64(physicalOffset)).map(Self.checks) ?? 0 }
    }

    private static func checks(_ value: [UInt8]) -> Int32 {
        value.count >= 5 ? value.withUnsafeBytes { $0.loadBigEndian(Int32.self, at: 1) } : 0
    }

    // MARK: Timers

    /// Timer entry in, or (delivered copy) timer entry out / level progress forward, inside `apply`'s transaction.
    private func applyDelivery(_ r: DispatchRecord, _ t: LMDBTransaction) throws {
        if let due = r.timerDue { try t.put(timer, Self.timerKey(TimerEntry(due: due, physicalOffset: r.entry.physicalOffset)), [0]) }
        switch r.delivered {
        case let .timer(entry)?: _ = try t.delete(timer, Self.timerKey(entry))
        case let .schedule(queueId, queueOffset)?:
            let key = IndexKeys.offsetKey(group: DelayedDelivery.progressGroup,
                                          queue: QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: queueId))
            let current = try t.get(offsets, key).map { v in v.withUnsafeBytes { Int64(bitPattern: $0.loadBigEndian(UInt64.self, at: 0)) } }
            if (current ?? -1) < queueOffset + 1 { _ = try t.put(offsets, key, Self.u64(queueOffset + 1)) }
        case nil: break
        }
    }

    /// Deletes timer entries whose physical offset matches `drop` (retention, truncation): a full scan; the
    /// table holds only pending timers.
    private func deleteTimers(_ t: LMDBTransaction, where drop: (Int64) -> Bool) throws {
        try t.withCursor(timer) { cur in
            var e = try cur.first()
            while let (k, _) = e {
                if drop(Int64(bitPattern: k.loadBigEndian(UInt64.self, at: 8))) { try cur.deleteCurrent() }
                e = try cur.next()  // after a delete MDB_NEXT yields the entry that followed (see truncate)
            }
        }
    }

    // MARK: Consumer offsets (LMDBIndexStore+ConsumerOffsets.swift)

    /// Moved after every write of `offsets` outside dispatch (``IndexStore/consumerOffsetsVersion``).
    let offsetsVersion = Atomic<UInt64>(0)
    public var consumerOffsetsVersion: UInt64 { offsetsVersion.load(ordering: .acquiring) }


    // MARK: Durability, statistics

    public func sync() throws { try env.sync() }

    public func statistics() throws -> IndexStatistics {
        try env.read { t in
            IndexStatistics(queues: try t.entryCount(queuesDB), queueEntries: try t.entryCount(cq),
                            keyEntries: try t.entryCount(keys), uniqueKeyEntries: try t.entryCount(uniq),
                            transactionStates: try t.entryCount(txn), consumerOffsets: try t.entryCount(offsets),
                            bytesUsed: try env.usedBytes(), timers: try t.entryCount(timer))
        }
    }

    public func close() { env.close() }

    // MARK: Encoding helpers

    private static func queueValue(_ s: QueueSlot) -> [UInt8] {
        var v = [UInt8](); v.appendBigEndian(s.id); v.appendBigEndian(UInt64(bitPattern: s.min)); return v
    }
}
