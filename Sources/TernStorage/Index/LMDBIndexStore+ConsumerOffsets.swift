import Synchronization
import TernSystem

/// Consumer offsets (primary state, not derived): keys `group 0x00 queue` (IndexKeys), values the next offset as
/// a big-endian UInt64. Every write moves `offsetsVersion`.
extension LMDBIndexStore {
    public func commitConsumerOffset(group: String, queue: QueueKey, offset: Int64) throws {
        defer { offsetsVersion.add(1, ordering: .releasing) }
        try env.write { t in _ = try t.put(offsets, IndexKeys.offsetKey(group: group, queue: queue), Self.u64(offset)) }
    }

    public func commitConsumerOffsets(_ batch: [ConsumerOffsetKey: Int64]) throws {
        defer { offsetsVersion.add(1, ordering: .releasing) }
        try env.write { t in
            for (key, offset) in batch {
                _ = try t.put(offsets, IndexKeys.offsetKey(group: key.group, queue: key.queue), Self.u64(offset))
            }
        }
    }

    public func consumerOffset(group: String, queue: QueueKey) throws -> Int64? {
        try env.read { t in
            try t.get(offsets, IndexKeys.offsetKey(group: group, queue: queue)).map { v in
                v.withUnsafeBytes { Int64(bitPattern: $0.loadBigEndian(UInt64.self, at: 0)) }
            }
        }
    }

    public func consumerOffsets() throws -> [ConsumerOffsetKey: Int64] {
        try env.read { t in
            var out: [ConsumerOffsetKey: Int64] = [:]
            try t.withCursor(offsets) { cur in
                var e = try cur.first()
                while let (k, v) = e {
                    if let key = IndexKeys.decodeOffsetKey(k), v.count == 8 {
                        out[key] = Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 0))
                    }
                    e = try cur.next()
                }
            }
            return out
        }
    }

    public func consumerOffsets(group: String) throws -> [ConsumerOffsetKey: Int64] {
        try env.read { t in
            var out: [ConsumerOffsetKey: Int64] = [:]
            try t.withCursor(offsets) { cur in
                let prefix = Array(group.utf8) + [0]
                var e = try cur.seek(prefix)
                while let (k, v) = e, k.starts(with: prefix) {
                    if let key = IndexKeys.decodeOffsetKey(k), v.count == 8 {
                        out[key] = Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 0))
                    }
                    e = try cur.next()
                }
            }
            return out
        }
    }

    /// Keys are `group 0x00 queue`, so each group's offsets are one key range.
    public func removeConsumerOffsets(groups: Set<String>) throws -> Int {
        defer { offsetsVersion.add(1, ordering: .releasing) }
        return try env.write { t in
            try t.withCursor(offsets) { cur in
                var removed = 0
                for group in groups {
                    let prefix = Array(group.utf8) + [0]
                    var e = try cur.seek(prefix)
                    // After mdb_cursor_del the cursor sits on the next entry and MDB_NEXT returns it.
                    while let (k, _) = e, k.starts(with: prefix) {
                        try cur.deleteCurrent()
                        removed += 1
                        e = try cur.next()
                    }
                }
                return removed
            }
        }
    }
}
