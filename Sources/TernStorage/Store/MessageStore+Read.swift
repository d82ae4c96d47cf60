import Logging
import Synchronization
import TernChecksum
import TernMessage
import TernSystem

/// Result of reading a queue, with RocketMQ's statuses (`GetMessageStatus`).
public struct GetMessageResult: Sendable {
    public enum Status: String, Sendable, Equatable {
        case found = "FOUND"
        case noMatchedMessage = "NO_MATCHED_MESSAGE"
        case noMessageInQueue = "NO_MESSAGE_IN_QUEUE"
        case offsetFoundNull = "OFFSET_FOUND_NULL"
        case offsetOverflowBadly = "OFFSET_OVERFLOW_BADLY"
        case offsetOverflowOne = "OFFSET_OVERFLOW_ONE"
        case offsetTooSmall = "OFFSET_TOO_SMALL"
        case noMatchedLogicQueue = "NO_MATCHED_LOGIC_QUEUE"
    }
    public var status: Status
    /// Where the next read of this queue should start.
    public var nextBeginOffset: Int64
    public var minOffset: Int64
    public var maxOffset: Int64
    public var messages: [StoredMessage]
    public var totalBytes: Int
    /// Records taken (`messages.count` for `getMessages`; `readMessages` hands them out instead).
    public var count: Int = 0
    /// Log offset just past the last record taken (0 when none).
    public var endOffset: Int64 = 0

    public init(status: Status, nextBeginOffset: Int64, minOffset: Int64, maxOffset: Int64, messages: [StoredMessage],
                totalBytes: Int) {
        (self.status, self.nextBeginOffset, self.minOffset, self.maxOffset) = (status, nextBeginOffset, minOffset, maxOffset)
        (self.messages, self.totalBytes) = (messages, totalBytes)
    }
}

extension MessageStore {
    /// Most consume-queue units scanned per read (Java: max(16000 bytes / 20, maxCount)).
    static let maxUnitsScanned = 800
    /// How many records ahead of the one being read a read asks the CPU to load (`CommitLog.prefetch`).
    static let prefetchAhead = 2

    /// Reads messages of `queue` from logical offset `offset`: at most `maxCount` messages and about `maxBytes`
    /// (the first message is always taken), skipping entries whose tag code `filter` rejects, then records
    /// `recordFilter` rejects (SQL92 / environment: properties). The records are zero-copy views of the mapped log.
    public func getMessages(_ queue: QueueKey, from offset: Int64, maxCount: Int, maxBytes: Int = 256 * 1024,
                            filter: ((Int64) -> Bool)? = nil,
                            recordFilter: ((RecordView) -> Bool)? = nil) throws -> GetMessageResult {
        var messages: [StoredMessage] = []
        var result = try readMessages(queue, from: offset, maxCount: maxCount, maxBytes: maxBytes, filter: filter,
                                      recordFilter: recordFilter) { m, _ in messages.append(m) }
        result.messages = messages
        return result
    }

    /// `getMessages` without the array: `take` gets each record taken, in order, while the read runs (a pull
    /// copies it straight into its answer); the result's `messages` is empty, its `count`, `totalBytes` and
    /// `endOffset` describe what was taken. One index transaction per 256 entries scanned (one per pull without a
    /// filter), one segment lookup per run of records in the same segment, no allocation per record.
    ///
    /// `take`'s second argument bounds how many records this read can still take, the one handed over included:
    /// the entries left in the queue, at most what `maxCount` allows (a caller sizes its answer by it: a
    /// consumer at the queue's tail asking for 32 records gets the 1 or 2 that exist).
    public func readMessages(_ queue: QueueKey, from offset: Int64, maxCount: Int, maxBytes: Int = 256 * 1024,
                             filter: ((Int64) -> Bool)? = nil, recordFilter: ((RecordView) -> Bool)? = nil,
                             take: (StoredMessage, _ atMost: Int) throws -> Void) throws -> GetMessageResult {
        guard let range = try index.queueRange(queue) else {
            return GetMessageResult(status: .noMatchedLogicQueue, nextBeginOffset: 0, minOffset: 0, maxOffset: 0, messages: [], totalBytes: 0)
        }
        func result(_ s: GetMessageResult.Status, _ next: Int64) -> GetMessageResult {
            GetMessageResult(status: s, nextBeginOffset: next, minOffset: range.min, maxOffset: range.max, messages: [], totalBytes: 0)
        }
        if range.max == 0 { return result(.noMessageInQueue, 0) }
        if offset < range.min { return result(.offsetTooSmall, range.min) }
        if offset == range.max { return result(.offsetOverflowOne, offset) }
        if offset > range.max { return result(.offsetOverflowBadly, range.max) }

        var out = result(.noMatchedMessage, offset)
        let scanLimit = max(Self.maxUnitsScanned, maxCount)
        var next = offset
        var missing = 0
        var segment: Segment? = nil
        scan: while next < range.max, next - offset < scanLimit {
            // Without a filter every entry is taken: fetch only what can still be returned.
            let wanted = filter == nil && recordFilter == nil ? maxCount - out.count : 256
            let chunk = try index.entries(queue, from: next, maxCount: min(wanted, scanLimit - Int(next - offset)))
            if chunk.isEmpty { break }
            // A record's first reads (its framing, then its body CRC) miss the caches: records read from a log
            // much larger than the cache, one queue's records scattered between other queues'. Loading the next
            // ones meanwhile overlaps those misses with the work on the current one. Entries the tag filter
            // rejects are not loaded.
            func prefetch(_ i: Int) {
                guard i < chunk.count else { return }
                let e = chunk[i]
                if let filter, !filter(e.tagCode) { return }
                log.prefetch(at: e.physicalOffset, size: Int(e.size), segment: &segment)
            }
            for i in 0..<Self.prefetchAhead { prefetch(i) }
            for (i, e) in chunk.enumerated() {
                if out.count >= maxCount { break scan }
                prefetch(i + Self.prefetchAhead)
                if let filter, !filter(e.tagCode) { next = e.queueOffset + 1; continue }
                guard let m = intactRecord(at: e.physicalOffset, segment: &segment) else {
                    missing += 1; next = e.queueOffset + 1; continue
                }
                if let recordFilter, !recordFilter(m.record) { next = e.queueOffset + 1; continue }
                if out.count > 0, out.totalBytes + m.size > maxBytes { break scan }
                try take(m, min(maxCount - out.count, Int(range.max - e.queueOffset)))
                out.count += 1
                out.totalBytes += m.size
                out.endOffset = m.physicalOffset + Int64(m.size)
                next = e.queueOffset + 1
            }
        }
        out.nextBeginOffset = next
        out.status = out.count > 0 ? .found : (missing > 0 ? .offsetFoundNull : .noMatchedMessage)
        return out
    }

    public func queueRange(_ queue: QueueKey) throws -> QueueRange? { try index.queueRange(queue) }
    public func queues() throws -> [QueueKey: QueueRange] { try index.queues() }

    /// Store time of the oldest message still in the queue, or -1.
    public func earliestStoreTime(_ queue: QueueKey) throws -> Int64 {
        guard let r = try index.queueRange(queue), r.min < r.max,
              let e = try index.entries(queue, from: r.min, maxCount: 1).first else { return -1 }
        return e.storeTimestamp
    }

    /// Logical offset of the message stored at `timestamp` (ms): an exact match, else the neighbour closer in
    /// time; below the first message its offset, past the last the max offset; 0 for an unknown / empty queue.
    public func offset(forTimestamp timestamp: Int64, in queue: QueueKey) throws -> Int64 {
        guard let r = try index.queueRange(queue), r.min < r.max else { return 0 }
        func time(_ o: Int64) throws -> Int64 { try index.entries(queue, from: o, maxCount: 1).first?.storeTimestamp ?? .max }
        // Lowest offset with time >= timestamp (store times are monotonic within a queue).
        var lo = r.min, hi = r.max
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if try time(mid) < timestamp { lo = mid + 1 } else { hi = mid }
        }
        if lo == r.max { return r.max }
        if lo == r.min { return lo }
        let right = try time(lo)
        if right == timestamp { return lo }
        let left = try time(lo - 1)
        return timestamp - left <= right - timestamp ? lo - 1 : lo
    }

    /// The record at a physical offset, if it is still in the log and intact.
    public func message(at physicalOffset: Int64) -> StoredMessage? { intactRecord(at: physicalOffset) }

    /// The record at `physicalOffset` when its body CRC holds. Every read goes through here: a record damaged
    /// on disk (possibly after it was indexed) is never served; pulls step over it like a missing record.
    /// Cost: one CRC32 pass over the body: ~75 ns per KiB with libdeflate, ~0.7 µs with the tables fallback,
    /// which a backlog drain spent a third of its broker CPU in (see `CRC32`).
    /// A damaged record is logged as an error the first time a read meets it (at most `damagedReadsLoggedMax`
    /// distinct records per process, so a damaged region cannot flood the log).
    func intactRecord(at physicalOffset: Int64) -> StoredMessage? {
        var segment: Segment? = nil
        return intactRecord(at: physicalOffset, segment: &segment)
    }

    /// `intactRecord(at:)` reusing `segment` when it holds the record (else looking it up and keeping it there).
    func intactRecord(at physicalOffset: Int64, segment: inout Segment?) -> StoredMessage? {
        guard let m = log.record(at: physicalOffset, segment: &segment) else { return nil }
        let r = m.record
        let computed = CRC32.rocketmqBodyCRC(r.body)
        if computed == r.bodyCRC { return m }
        let first = damagedReads.withLock { seen in
            seen.count < Self.damagedReadsLoggedMax && seen.insert(physicalOffset).inserted
        }
        if first {
            logger.error("damaged record in the commit log is not served (body CRC mismatch)", metadata: [
                "segment": "\(m.segment.file.path)", "offset": "\(physicalOffset)", "bytes": "\(m.size)",
                "crc.stored": "\(r.bodyCRC)", "crc.computed": "\(computed)",
            ])
        }
        return nil
    }

    static let damagedReadsLoggedMax = 1_024

    /// Messages of `topic` whose KEYS contain `key`, stored within [begin, end], newest first.
    public func lookup(topic: String, key: String, beginTimestamp: Int64 = 0, endTimestamp: Int64 = .max,
                       limit: Int = 32) throws -> [StoredMessage] {
        try index.lookupKey(topic: topic, key: key, beginTimestamp: beginTimestamp, endTimestamp: endTimestamp, limit: limit)
            .compactMap { phys in
                guard let m = intactRecord(at: phys), m.record.topicString == topic,
                      let keys = MessageProperties.value(of: "KEYS", in: m.record.properties),
                      keys.split(separator: 0x20).contains(where: { $0.elementsEqual(key.utf8) }) else { return nil }
                return m
            }
    }

    /// Messages whose client unique id (UNIQ_KEY) is `uniqueKey`, newest first.
    public func lookup(uniqueKey: String, limit: Int = 32) throws -> [StoredMessage] {
        try index.lookupUniqueKey(uniqueKey, limit: limit).compactMap { phys in
            guard let m = intactRecord(at: phys),
                  let u = MessageProperties.value(of: "UNIQ_KEY", in: m.record.properties),
                  u.elementsEqual(uniqueKey.utf8) else { return nil }
            return m
        }
    }

    /// The message named by an offset message id (store host + physical offset).
    public func lookup(offsetMessageId id: String) -> StoredMessage? {
        guard let (_, phys) = MessageId.decodeOffsetId(id) else { return nil }
        return intactRecord(at: phys)
    }
}
