/// Byte layouts of the LMDB index keys and values. Big-endian integers so byte order == numeric order.
///
/// | database  | key                                            | value                                   |
/// |-----------|------------------------------------------------|-----------------------------------------|
/// | meta      | "checkpoint"                                   | offset(8) lastRecord(8)                 |
/// |           | "nextQueueId"                                  | id(4)                                   |
/// |           | "minPhysical"                                  | offset(8): retention point              |
/// |           | "derivation"                                   | version(1)=1 count(4) delayMs(8)×count  |
/// | queues    | topic 0x00 queueId(4)                          | id(4) minOffset(8)                      |
/// | queueEntries | id(4)                (dupsort, dupfixed)    | queueOffset(8) phys(8) size(4) tagCode(8) storeTime(8) |
/// | keys      | hour(4) topic "#" key   (dupsort, dupfixed)    | storeTime(8) phys(8)                    |
/// | uniq      | hour(4) UNIQ_KEY        (dupsort, dupfixed)    | storeTime(8) phys(8)                    |
/// | txn       | halfPhys(8)                                    | state(1) [checks(4)]                    |
/// | offsets   | group 0x00 topic 0x00 queueId(4)               | offset(8)                               |
/// | timer     | due(8) phys(8)                                 | 0 (1 byte)                              |
///
/// Why: a queue's entries are the duplicates of its dense id, sorted by offset, so a batch appends to the end of
/// each queue's own sub-tree (MDB_APPENDDUP: no search, and a full page splits at its end). Keyed id + offset in
/// one tree (the older table `cq`, dropped and rebuilt from the log at open), each queue's inserts landed in the
/// middle of the tree, where every split left a half-empty page behind: ~2.5× the pages per entry.
/// (`dumpTables` still labels the table "cq".) Key-index keys start with the store hour, so inserts cluster in
/// the newest hour (near the right edge of the tree), retention deletes whole old hours with one cursor sweep,
/// and a lookup probes only the hours that exist. Dupsort values sort by (time, phys): newest first = walk back.
enum IndexKeys {
    static let checkpoint: [UInt8] = Array("checkpoint".utf8)
    static let nextQueueId: [UInt8] = Array("nextQueueId".utf8)
    static let minPhysical: [UInt8] = Array("minPhysical".utf8)
    /// The `DerivationConfig` the derived tables were built with.
    static let derivation: [UInt8] = Array("derivation".utf8)
    static let derivationVersion: UInt8 = 1
    /// LMDB's default maximum key size is 511; longer keys are cut (lookups re-check the record's KEYS).
    static let maxKeyBytes = 500
    static let hourMillis: Int64 = 3_600_000

    static func hour(_ storeTimestamp: Int64) -> UInt32 {
        UInt32(clamping: max(0, storeTimestamp) / hourMillis)
    }

    static func queueKey(_ q: QueueKey) -> [UInt8] {
        var k = Array(q.topic.utf8)
        k.append(0)
        k.appendBigEndian(UInt32(bitPattern: q.queueId))
        return k
    }

    static func decodeQueueKey(_ raw: UnsafeRawBufferPointer) -> QueueKey? {
        guard raw.count >= 6, raw[raw.count - 5] == 0 else { return nil }
        let topic = String(decoding: raw[0..<(raw.count - 5)], as: UTF8.self)
        return QueueKey(topic: topic, queueId: Int32(bitPattern: raw.loadBigEndian(UInt32.self, at: raw.count - 4)))
    }

    static func offsetKey(group: String, queue: QueueKey) -> [UInt8] {
        var k = Array(group.utf8)
        k.append(0)
        k += queueKey(queue)
        return k
    }

    static func decodeOffsetKey(_ raw: UnsafeRawBufferPointer) -> ConsumerOffsetKey? {
        guard let sep = raw.firstIndex(of: 0) else { return nil }
        let group = String(decoding: raw[0..<sep], as: UTF8.self)
        guard let q = decodeQueueKey(UnsafeRawBufferPointer(rebasing: raw[(sep + 1)...])) else { return nil }
        return ConsumerOffsetKey(group: group, queue: q)
    }

    /// hour(4) + text bytes, cut to maxKeyBytes.
    static func bucketedKey(hour: UInt32, _ text: String) -> [UInt8] {
        var k = [UInt8]()
        bucketedKey(hour: hour, text.utf8, into: &k)
        return k
    }

    /// hour(4) + ("topic#" for KEYS) + text, cut to maxKeyBytes, written over `key` (the dispatcher's reused
    /// buffer): the same bytes as `bucketedKey(hour:, topic + "#" + key)`.
    static func bucketedKey(hour: UInt32, topic: String? = nil, _ text: some Collection<UInt8>, into key: inout [UInt8]) {
        key.removeAll(keepingCapacity: true)
        key.appendBigEndian(hour)
        if let topic {
            key.append(contentsOf: topic.utf8)
            key.append(UInt8(ascii: "#"))
        }
        key.append(contentsOf: text)
        if key.count > maxKeyBytes { key.removeLast(key.count - maxKeyBytes) }
    }

    static func encodeDerivation(_ d: DerivationConfig) -> [UInt8] {
        var v: [UInt8] = [derivationVersion]
        v.appendBigEndian(UInt32(d.delayLevelMillis.count))
        for ms in d.delayLevelMillis { v.appendBigEndian(UInt64(bitPattern: ms)) }
        return v
    }

    /// nil for an unknown version or a malformed value (the store then rebuilds the derived tables).
    static func decodeDerivation(_ v: [UInt8]) -> DerivationConfig? {
        guard v.count >= 5, v[0] == derivationVersion else { return nil }
        return v.withUnsafeBytes { raw in
            let count = Int(raw.loadBigEndian(UInt32.self, at: 1))
            guard raw.count == 5 + 8 * count else { return nil }
            let levels = (0..<count).map { Int64(bitPattern: raw.loadBigEndian(UInt64.self, at: 5 + 8 * $0)) }
            return DerivationConfig(delayLevelMillis: levels)
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    func loadBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
