import Synchronization

/// `IndexStore` in process memory, for tests: same semantics as the LMDB backend, no durability.
public final class InMemoryIndexStore: IndexStore {
    private struct State {
        var checkpoint = DispatchCheckpoint.zero
        /// Per queue: entries in offset order and the min offset (entries below min are gone).
        var queues: [QueueKey: (min: Int64, entries: [ConsumeQueueEntry])] = [:]
        /// "topic#key" and UNIQ_KEY → (store time, physical offset), in insertion (= log) order.
        var keys: [String: [(Int64, Int64)]] = [:]
        var uniqueKeys: [String: [(Int64, Int64)]] = [:]
        var transactions: [Int64: TransactionState] = [:]
        var transactionChecks: [Int64: Int32] = [:]
        var consumerOffsets: [ConsumerOffsetKey: Int64] = [:]
        var timers: Set<TimerEntry> = []
        var derivation: DerivationConfig?
    }
    private let state = Mutex(State())

    public init() {}

    /// Stands for a queue offset whose record was damaged in the log (never returned by `entries`).
    private static func placeholder(_ queueOffset: Int64) -> ConsumeQueueEntry {
        ConsumeQueueEntry(queueOffset: queueOffset, physicalOffset: -1, size: 0, tagCode: 0, storeTimestamp: 0)
    }

    public func apply(_ batch: DispatchBatch) throws {
        try state.withLock { s in
            var next: [QueueKey: Int64] = [:]
            for r in batch.records {
                guard let q = batch.queue(of: r) else { continue }
                let expected = next[q] ?? s.queues[q].map { $0.min + Int64($0.entries.count) } ?? r.entry.queueOffset
                guard r.entry.queueOffset == expected || (batch.acceptsQueueGaps && r.entry.queueOffset > expected) else {
                    throw StoreError.queueGap(queue: q, found: r.entry.queueOffset, expected: expected, physicalOffset: r.entry.physicalOffset)
                }
                next[q] = r.entry.queueOffset + 1
            }
            for r in batch.records {
                if let q = batch.queue(of: r) {
                    var slot = s.queues[q] ?? (min: r.entry.queueOffset, entries: [])
                    // A gap after damaged records: placeholders keep offset == min + index (`entries` skips them).
                    while slot.min + Int64(slot.entries.count) < r.entry.queueOffset {
                        slot.entries.append(Self.placeholder(slot.min + Int64(slot.entries.count)))
                    }
                    slot.entries.append(r.entry)
                    s.queues[q] = slot
                }
                let value = (r.entry.storeTimestamp, r.entry.physicalOffset)
                for k in r.keys(in: batch.text) { s.keys[batch.topic(of: r) + "#" + k, default: []].append(value) }
                if let u = r.uniqueKey(in: batch.text) { s.uniqueKeys[u, default: []].append(value) }
                if let t = r.transactionState {
                    let key = r.transactionOffset
                    if t == .half && r.transactionChecks == 0 {
                        s.transactions[key] = .half
                    } else if s.transactions[key] == .half {
                        s.transactions[key] = t
                        if r.transactionChecks > 0 { s.transactionChecks[key] = r.transactionChecks }
                    }
                }
                if let due = r.timerDue { s.timers.insert(TimerEntry(due: due, physicalOffset: r.entry.physicalOffset)) }
                switch r.delivered {
                case let .timer(e)?: s.timers.remove(e)
                case let .schedule(q, o)?:
                    let k = ConsumerOffsetKey(group: DelayedDelivery.progressGroup, queue: QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: q))
                    s.consumerOffsets[k] = max(s.consumerOffsets[k] ?? 0, o + 1)
                case nil: break
                }
            }
            s.checkpoint = batch.checkpoint
        }
    }

    public func checkpoint() throws -> DispatchCheckpoint { state.withLock { $0.checkpoint } }

    public func truncate(from physicalOffset: Int64, lastRecord: Int64) throws {
        state.withLock { s in
            for (q, slot) in s.queues {
                // Entries are in log order; placeholders (gaps) count only when a kept entry follows them.
                var kept = Array(slot.entries.prefix { $0.size == 0 || $0.physicalOffset < physicalOffset })
                while kept.last?.size == 0 { kept.removeLast() }
                s.queues[q] = (min: slot.min, entries: kept)
            }
            s.keys = s.keys.compactMapValues { v in let k = v.filter { $0.1 < physicalOffset }; return k.isEmpty ? nil : k }
            s.uniqueKeys = s.uniqueKeys.compactMapValues { v in let k = v.filter { $0.1 < physicalOffset }; return k.isEmpty ? nil : k }
            s.transactions = s.transactions.filter { $0.key < physicalOffset }
            s.timers = s.timers.filter { $0.physicalOffset < physicalOffset }
            if s.checkpoint.offset > physicalOffset {
                s.checkpoint = DispatchCheckpoint(offset: physicalOffset, lastRecord: lastRecord)
            }
        }
    }

    public func deleteBelow(_ physicalOffset: Int64, firstStoreTimestamp: Int64) throws {
        state.withLock { s in
            for (q, slot) in s.queues {
                let drop = slot.entries.prefix { $0.physicalOffset < physicalOffset }.count
                s.queues[q] = (min: slot.min + Int64(drop), entries: Array(slot.entries.dropFirst(drop)))
            }
            s.keys = s.keys.compactMapValues { v in let k = v.filter { $0.1 >= physicalOffset }; return k.isEmpty ? nil : k }
            s.uniqueKeys = s.uniqueKeys.compactMapValues { v in let k = v.filter { $0.1 >= physicalOffset }; return k.isEmpty ? nil : k }
            s.transactions = s.transactions.filter { $0.key >= physicalOffset }
            s.timers = s.timers.filter { $0.physicalOffset >= physicalOffset }
        }
    }

    public func clearDerived() throws {
        state.withLock { s in
            let offsets = s.consumerOffsets
            s = State()
            s.consumerOffsets = offsets
        }
    }

    public func derivation() throws -> DerivationConfig? { state.withLock { $0.derivation } }
    public func recordDerivation(_ config: DerivationConfig) throws { state.withLock { $0.derivation = config } }

    public func queues() throws -> [QueueKey: QueueRange] {
        state.withLock { s in s.queues.mapValues { QueueRange(min: $0.min, max: $0.min + Int64($0.entries.count)) } }
    }

    public func queueRange(_ queue: QueueKey) throws -> QueueRange? {
        state.withLock { s in s.queues[queue].map { QueueRange(min: $0.min, max: $0.min + Int64($0.entries.count)) } }
    }

    public func entries(_ queue: QueueKey, from: Int64, maxCount: Int) throws -> [ConsumeQueueEntry] {
        state.withLock { s in
            guard let slot = s.queues[queue], maxCount > 0 else { return [] }
            let start = max(from, slot.min) - slot.min
            guard start < slot.entries.count else { return [] }
            return Array(slot.entries[Int(start)...].lazy.filter { $0.size > 0 }.prefix(maxCount))
        }
    }

    public func lookupKey(topic: String, key: String, beginTimestamp: Int64, endTimestamp: Int64, limit: Int) throws -> [Int64] {
        state.withLock { s in
            let hits = (s.keys[topic + "#" + key] ?? []).filter { $0.0 >= beginTimestamp && $0.0 <= endTimestamp }
            return hits.reversed().prefix(limit).map { $0.1 }
        }
    }

    public func lookupUniqueKey(_ uniqueKey: String, limit: Int) throws -> [Int64] {
        state.withLock { s in (s.uniqueKeys[uniqueKey] ?? []).reversed().prefix(limit).map { $0.1 } }
    }

    public func setTransactionState(_ physicalOffset: Int64, _ st: TransactionState) throws {
        state.withLock { $0.transactions[physicalOffset] = st }
    }

    public func transactionState(_ physicalOffset: Int64) throws -> TransactionState? {
        state.withLock { $0.transactions[physicalOffset] }
    }

    public func transactionChecks(_ physicalOffset: Int64) throws -> Int32 {
        state.withLock { $0.transactionChecks[physicalOffset] ?? 0 }
    }

    public func timers(dueBy due: Int64, limit: Int) throws -> [TimerEntry] {
        state.withLock { s in Array(s.timers.filter { $0.due <= due }.sorted().prefix(limit)) }
    }

    public func firstTimer() throws -> TimerEntry? { state.withLock { $0.timers.min() } }

    private let offsetsVersion = Atomic<UInt64>(0)
    public var consumerOffsetsVersion: UInt64 { offsetsVersion.load(ordering: .acquiring) }

    public func commitConsumerOffset(group: String, queue: QueueKey, offset: Int64) throws {
        defer { offsetsVersion.add(1, ordering: .releasing) }
        state.withLock { $0.consumerOffsets[ConsumerOffsetKey(group: group, queue: queue)] = offset }
    }

    public func commitConsumerOffsets(_ batch: [ConsumerOffsetKey: Int64]) throws {
        defer { offsetsVersion.add(1, ordering: .releasing) }
        state.withLock { s in s.consumerOffsets.merge(batch) { _, new in new } }
    }

    public func consumerOffset(group: String, queue: QueueKey) throws -> Int64? {
        state.withLock { $0.consumerOffsets[ConsumerOffsetKey(group: group, queue: queue)] }
    }

    public func consumerOffsets() throws -> [ConsumerOffsetKey: Int64] { state.withLock { $0.consumerOffsets } }

    public func consumerOffsets(group: String) throws -> [ConsumerOffsetKey: Int64] {
        state.withLock { $0.consumerOffsets.filter { $0.key.group == group } }
    }

    public func removeConsumerOffsets(groups: Set<String>) throws -> Int {
        defer { offsetsVersion.add(1, ordering: .releasing) }
        return state.withLock { s in
            let before = s.consumerOffsets.count
            s.consumerOffsets = s.consumerOffsets.filter { !groups.contains($0.key.group) }
            return before - s.consumerOffsets.count
        }
    }

    public func sync() throws {}

    public func statistics() throws -> IndexStatistics {
        state.withLock { s in
            IndexStatistics(queues: s.queues.count, queueEntries: s.queues.values.reduce(0) { $0 + $1.entries.count },
                            keyEntries: s.keys.values.reduce(0) { $0 + $1.count },
                            uniqueKeyEntries: s.uniqueKeys.values.reduce(0) { $0 + $1.count },
                            transactionStates: s.transactions.count, consumerOffsets: s.consumerOffsets.count, bytesUsed: 0,
                            timers: s.timers.count)
        }
    }

    public func close() {}
}
