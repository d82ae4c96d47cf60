import TernSystem

/// The recorded derivation config and a raw dump of every table (tests compare dumps of indexes built in
/// different ways; `tern-inspect dump-index` prints one).
extension LMDBIndexStore {
    public func derivation() throws -> DerivationConfig? {
        try env.read { t in try t.get(meta, IndexKeys.derivation).flatMap(IndexKeys.decodeDerivation) }
    }

    public func recordDerivation(_ config: DerivationConfig) throws {
        try env.write { t in _ = try t.put(meta, IndexKeys.derivation, IndexKeys.encodeDerivation(config)) }
    }

    /// Every table's entries in key order (duplicates in value order), keys and values in hex: a dump of the
    /// exact bytes, so equal dumps mean identical index contents.
    public func dumpTables() throws -> [IndexTableDump] {
        let tables: [(String, LMDBDatabase)] = [("meta", meta), ("queues", queuesDB), ("cq", cq), ("keys", keys),
                                                ("uniq", uniq), ("txn", txn), ("offsets", offsets), ("timer", timer)]
        return try env.read { t in
            try tables.map { name, db in
                var rows: [String] = []
                try t.withCursor(db) { cur in
                    var e = try cur.first()
                    while let (k, v) = e {
                        rows.append(IndexTableDump.hex(k) + " " + IndexTableDump.hex(v))
                        e = try cur.next()
                    }
                }
                return IndexTableDump(table: name, rows: rows)
            }
        }
    }
}

/// One table of an index dump: "key value" rows in hex, in key order.
public struct IndexTableDump: Sendable, Equatable, Codable {
    public var table: String
    public var rows: [String]

    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
