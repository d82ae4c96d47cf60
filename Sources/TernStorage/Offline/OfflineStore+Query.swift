import TernMessage

/// What `tern-inspect stats` prints: the log's shape, its valid prefix, and the index's coverage of it.
public struct StoreStats: Sendable, Codable, Equatable {
    public var root: String
    public var segmentSize: Int?
    public var segmentCount: Int
    /// Bytes of all segment files (count × size: segments are preallocated).
    public var segmentBytes: Int64
    /// First offset still in the log (retention deletes from the front).
    public var minOffset: Int64
    /// End of the last segment file.
    public var maxOffset: Int64
    /// End of the valid data (CRC checked, across damage in the middle): where recovery's replay and
    /// rebuild-index stop.
    public var validEnd: Int64
    /// Records in the valid prefix.
    public var messageCount: Int
    public var firstStoreTimestamp: Int64?
    public var lastStoreTimestamp: Int64?
    /// The torn tail that ends the valid prefix, when it is not clean end-of-data.
    public var invalidRecord: LogStop?
    /// Damage in the middle of the log (skipped by recovery and rebuild-index; those records are lost).
    public var damagedRanges: [DamagedRange] = []
    public var index: IndexSummary?
}

/// The LMDB index's coverage and table sizes (`IndexStore.checkpoint()` and `statistics()`).
public struct IndexSummary: Sendable, Codable, Equatable {
    public var path: String
    /// The indexes cover every record that starts below this offset.
    public var checkpointOffset: Int64
    /// Start of the last record covered, -1 when none.
    public var checkpointLastRecord: Int64
    /// validEnd - checkpoint: log bytes the broker's recovery will index at its next start. Negative when the
    /// checkpoint lies past the valid end (recovery cuts the index back).
    public var unindexedTailBytes: Int64
    public var queues: Int
    public var queueEntries: Int
    public var keyEntries: Int
    public var uniqueKeyEntries: Int
    public var transactionStates: Int
    public var consumerOffsets: Int
    public var bytesUsed: Int
}

/// One consume queue as `tern-inspect queues` lists it.
public struct QueueInfo: Sendable, Codable, Equatable {
    public var topic: String
    public var queueId: Int32
    public var minOffset: Int64
    public var maxOffset: Int64
    /// maxOffset - minOffset: messages still readable.
    public var messageCount: Int64
}

extension OfflineStore {
    /// Walks the valid prefix (CRC checked) and reads the index's checkpoint and statistics.
    public func stats() throws -> StoreStats {
        let segments = log.segments
        var count = 0
        var first: Int64? = nil, last: Int64? = nil
        var damaged: [DamagedRange] = []
        let (end, stop) = log.walkAcrossDamage(from: log.minOffset, { _, view in
            count += 1
            if first == nil { first = view.storeTimestamp }
            last = view.storeTimestamp
            return true
        }, damaged: { damaged.append($0) })
        var stats = StoreStats(
            root: root, segmentSize: segmentSize, segmentCount: segments.count,
            segmentBytes: segments.reduce(0) { $0 + Int64($1.size) }, minOffset: log.minOffset,
            maxOffset: segments.last?.end ?? log.minOffset, validEnd: end, messageCount: count,
            firstStoreTimestamp: first, lastStoreTimestamp: last, invalidRecord: nil, index: nil)
        if case let .invalid(error) = stop { stats.invalidRecord = LogStop(offset: end, error) }
        stats.damagedRanges = damaged
        if let index {
            let cp = try index.checkpoint()
            let s = try index.statistics()
            stats.index = IndexSummary(
                path: layout.indexPath, checkpointOffset: cp.offset, checkpointLastRecord: cp.lastRecord,
                unindexedTailBytes: end - cp.offset, queues: s.queues, queueEntries: s.queueEntries,
                keyEntries: s.keyEntries, uniqueKeyEntries: s.uniqueKeyEntries, transactionStates: s.transactionStates,
                consumerOffsets: s.consumerOffsets, bytesUsed: s.bytesUsed)
        }
        return stats
    }

    /// Every consume queue with its [min, max) offsets, sorted by topic then queue id.
    public func queues() throws -> [QueueInfo] {
        try requireIndex().queues().sorted { $0.key < $1.key }.map { q, r in
            QueueInfo(topic: q.topic, queueId: q.queueId, minOffset: r.min, maxOffset: r.max,
                      messageCount: r.max - r.min)
        }
    }

    // MARK: Finding records

    /// Records of `topic` whose KEYS contain `key`, newest first, at most `limit`. Each candidate from the
    /// index is re-checked against the record (the index cuts keys longer than 500 bytes).
    public func find(topic: String, key: String, limit: Int = 32, bodyBytes: Int = 64) throws -> [RecordSummary] {
        let offsets = try requireIndex().lookupKey(topic: topic, key: key, beginTimestamp: 0, endTimestamp: .max,
                                                   limit: limit)
        return offsets.compactMap { offset in
            guard let m = log.recordAnyPosition(at: offset), m.record.topicString == topic,
                  let keys = MessageProperties.value(of: "KEYS", in: m.record.properties),
                  keys.split(separator: 0x20).contains(where: { $0.elementsEqual(key.utf8) })
            else { return nil }
            return RecordSummary(m.record, at: offset, bodyBytes: bodyBytes)
        }
    }

    /// Records whose UNIQ_KEY (client message id) is `uniqueKey`, newest first, at most `limit`.
    public func find(uniqueKey: String, limit: Int = 32, bodyBytes: Int = 64) throws -> [RecordSummary] {
        try requireIndex().lookupUniqueKey(uniqueKey, limit: limit).compactMap { offset in
            guard let m = log.recordAnyPosition(at: offset),
                  let u = MessageProperties.value(of: "UNIQ_KEY", in: m.record.properties),
                  u.elementsEqual(uniqueKey.utf8)
            else { return nil }
            return RecordSummary(m.record, at: offset, bodyBytes: bodyBytes)
        }
    }

    /// The record an offset message id names (no index needed), or nil when no valid record starts there.
    public func find(offsetMessageId id: String, bodyBytes: Int = 64) throws -> RecordSummary? {
        guard let (_, offset) = MessageId.decodeOffsetId(id) else { throw OfflineStoreError.invalidMessageId(id) }
        return record(at: offset, bodyBytes: bodyBytes)
    }

    /// The record starting at `offset` (structure validated; `bodyCRCValid` tells about the CRC), or nil.
    public func record(at offset: Int64, bodyBytes: Int = 64) -> RecordSummary? {
        log.recordAnyPosition(at: offset).map { RecordSummary($0.record, at: offset, bodyBytes: bodyBytes) }
    }
}
