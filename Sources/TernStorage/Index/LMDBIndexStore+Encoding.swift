import TernSystem

/// Byte layouts of `LMDBIndexStore`'s values (IndexKeys.swift has the table): big-endian, so byte order is numeric order.
extension LMDBIndexStore {
    static func encodeEntry(_ e: ConsumeQueueEntry, into v: UnsafeMutableRawBufferPointer) {
        v.storeBigEndian(UInt64(bitPattern: e.physicalOffset), at: 0)
        v.storeBigEndian(UInt32(bitPattern: e.size), at: 8)
        v.storeBigEndian(UInt64(bitPattern: e.tagCode), at: 12)
        v.storeBigEndian(UInt64(bitPattern: e.storeTimestamp), at: 20)
    }

    /// A `queueEntries` duplicate: queue offset(8) then the entry.
    static func decodeQueueEntry(_ v: UnsafeRawBufferPointer) -> ConsumeQueueEntry {
        decodeEntry(UnsafeRawBufferPointer(rebasing: v[8...]), queueOffset: Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 0)))
    }

    static func decodeEntry(_ v: UnsafeRawBufferPointer, queueOffset: Int64) -> ConsumeQueueEntry {
        ConsumeQueueEntry(queueOffset: queueOffset,
                          physicalOffset: Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 0)),
                          size: Int32(bitPattern: v.loadBigEndian(UInt32.self, at: 8)),
                          tagCode: Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 12)),
                          storeTimestamp: Int64(bitPattern: v.loadBigEndian(UInt64.self, at: 20)))
    }

    static func checkpointValue(_ c: DispatchCheckpoint) -> [UInt8] {
        var v = [UInt8](); v.appendBigEndian(UInt64(bitPattern: c.offset)); v.appendBigEndian(UInt64(bitPattern: c.lastRecord)); return v
    }

    static func readCheckpoint(_ t: LMDBTransaction, _ meta: LMDBDatabase) throws -> DispatchCheckpoint {
        guard let v = try t.get(meta, IndexKeys.checkpoint), v.count == 16 else { return .zero }
        return v.withUnsafeBytes {
            DispatchCheckpoint(offset: Int64(bitPattern: $0.loadBigEndian(UInt64.self, at: 0)),
                               lastRecord: Int64(bitPattern: $0.loadBigEndian(UInt64.self, at: 8)))
        }
    }

    static func u64(_ x: Int64) -> [UInt8] { var v = [UInt8](); v.appendBigEndian(UInt64(bitPattern: x)); return v }
    static func u32(_ x: UInt32) -> [UInt8] { var v = [UInt8](); v.appendBigEndian(x); return v }
}
