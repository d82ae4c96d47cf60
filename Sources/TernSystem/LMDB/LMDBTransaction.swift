import CLMDB

/// A transaction, valid only inside the closure of `LMDBEnvironment.read` / `.write` that received it.
/// Using it afterwards traps. Byte views returned by `get` / cursors are valid until the transaction ends
/// or (in a write transaction) until the next write.
///
/// Invariants (lmdb.h caveats):
/// - `txn` is live exactly while `isValid`; the environment clears `isValid` before it commits or aborts.
/// - Not Sendable: one thread at a time, never outside its closure (a write transaction must also end on
///   the thread that began it, which the synchronous closure guarantees).
/// API CONTRACT — implemented by TernSystem.
public final class LMDBTransaction {
    public struct PutFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let noOverwrite = PutFlags(rawValue: 1 << 0)  // MDB_NOOVERWRITE: returns false if key exists
        public static let noDupData = PutFlags(rawValue: 1 << 1)    // MDB_NODUPDATA: returns false if pair exists
        public static let append = PutFlags(rawValue: 1 << 2)       // MDB_APPEND: key must sort after the last
        public static let appendDup = PutFlags(rawValue: 1 << 3)    // MDB_APPENDDUP

        /// The mdb_put / mdb_cursor_put flag bits.
        var lmdb: UInt32 {
            var raw: UInt32 = 0
            if contains(.noOverwrite) { raw |= UInt32(MDB_NOOVERWRITE) }
            if contains(.noDupData) { raw |= UInt32(MDB_NODUPDATA) }
            if contains(.append) { raw |= UInt32(MDB_APPEND) }
            if contains(.appendDup) { raw |= UInt32(MDB_APPENDDUP) }
            return raw
        }

        /// MDB_KEYEXIST means "already there" (→ false) only for noOverwrite / noDupData without an append
        /// flag; with append / appendDup it also means "out of order", which is an error.
        var keyExistIsResult: Bool {
            !isDisjoint(with: [.noOverwrite, .noDupData]) && isDisjoint(with: [.append, .appendDup])
        }
    }

    private let txn: OpaquePointer
    private let readOnly: Bool
    private var isValid = true

    init(_ txn: OpaquePointer, readOnly: Bool) {
        self.txn = txn
        self.readOnly = readOnly
    }

    /// Called by the environment just before mdb_txn_commit / mdb_txn_abort.
    func invalidate() { isValid = false }

    /// The MDB_txn; traps once the transaction's closure has ended.
    private var handle: OpaquePointer {
        precondition(isValid, "LMDBTransaction used after its closure ended")
        return txn
    }

    public var isReadOnly: Bool {
        _ = handle
        return readOnly
    }

    public func get(_ db: LMDBDatabase, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = MDB_val(key)
        var v = MDB_val()
        let rc = mdb_get(handle, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try LMDB.check("mdb_get", rc)
        return v.bytes
    }

    public func get(_ db: LMDBDatabase, _ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { try get(db, $0).map { Array($0) } }
    }

    /// Returns false when MDB_KEYEXIST with noOverwrite / noDupData; other failures throw
    /// (MDB_KEYEXIST with append / appendDup — a key out of order — throws).
    @discardableResult
    public func put(_ db: LMDBDatabase, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: PutFlags = []) throws -> Bool {
        var k = MDB_val(key)
        var v = MDB_val(value)
        let rc = mdb_put(handle, db.dbi, &k, &v, flags.lmdb)
        if rc == MDB_KEYEXIST && flags.keyExistIsResult { return false }
        try LMDB.check("mdb_put", rc)
        return true
    }

    @discardableResult
    public func put(_ db: LMDBDatabase, _ key: [UInt8], _ value: [UInt8], _ flags: PutFlags = []) throws -> Bool {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try put(db, k, v, flags) } }
    }

    /// Deletes the key (all duplicates) or, with `value`, one duplicate. Returns false when not found.
    /// (In a database without dupSort, LMDB ignores `value` and deletes the key.)
    @discardableResult
    public func delete(_ db: LMDBDatabase, _ key: [UInt8], value: [UInt8]? = nil) throws -> Bool {
        let rc: Int32 = key.withUnsafeBytes { keyBytes in
            var k = MDB_val(keyBytes)
            guard let value else { return mdb_del(handle, db.dbi, &k, nil) }
            return value.withUnsafeBytes { valueBytes in
                var v = MDB_val(valueBytes)
                return mdb_del(handle, db.dbi, &k, &v)
            }
        }
        if rc == MDB_NOTFOUND { return false }
        try LMDB.check("mdb_del", rc)
        return true
    }

    /// mdb_drop(db, 0): empties the database.
    public func clear(_ db: LMDBDatabase) throws {
        try LMDB.check("mdb_drop", mdb_drop(handle, db.dbi, 0))
    }

    /// mdb_drop(db, 1): deletes the database from the environment and closes its handle (not to be used again).
    public func drop(_ db: LMDBDatabase) throws {
        try LMDB.check("mdb_drop", mdb_drop(handle, db.dbi, 1))
    }

    /// Entries in the database as seen by this transaction.
    public func entryCount(_ db: LMDBDatabase) throws -> Int {
        var stat = MDB_stat()
        try LMDB.check("mdb_stat", mdb_stat(handle, db.dbi, &stat))
        return Int(stat.ms_entries)
    }

    /// Opens a cursor closed automatically when `body` returns.
    public func withCursor<R>(_ db: LMDBDatabase, _ body: (LMDBCursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try LMDB.check("mdb_cursor_open", mdb_cursor_open(handle, db.dbi, &cursor))
        let wrapper = LMDBCursor(cursor!)
        defer {
            wrapper.invalidate()
            // Read-only cursors must be closed explicitly; write cursors may be, before the transaction ends.
            mdb_cursor_close(cursor)
        }
        return try body(wrapper)
    }
}

/// A cursor, valid only inside `withCursor`'s closure. Every positioning call returns the entry it lands on,
/// or nil when there is none (MDB_NOTFOUND).
///
/// Invariants: `cursor` is live exactly while `isValid`; it belongs to a transaction that outlives it
/// (withCursor runs inside the transaction's closure). Entries point into the map (see LMDBTransaction).
/// Some operations do not fill the output key: MDB_GET_BOTH_RANGE leaves the caller's (temporary) buffer in it,
/// MDB_FIRST_DUP / MDB_LAST_DUP leave it untouched. Those re-read the landed entry with MDB_GET_CURRENT.
/// API CONTRACT — implemented by TernSystem.
public final class LMDBCursor {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    private let cursor: OpaquePointer
    private var isValid = true

    init(_ cursor: OpaquePointer) { self.cursor = cursor }

    func invalidate() { isValid = false }

    /// The MDB_cursor; traps once withCursor's closure has ended.
    private var handle: OpaquePointer {
        precondition(isValid, "LMDBCursor used after its closure ended")
        return cursor
    }

    /// mdb_cursor_get with `op`, reading and writing `key` / `value`; nil on MDB_NOTFOUND.
    private func get(_ op: MDB_cursor_op, _ key: inout MDB_val, _ value: inout MDB_val) throws -> Entry? {
        let rc = mdb_cursor_get(handle, &key, &value, op)
        if rc == MDB_NOTFOUND { return nil }
        try LMDB.check("mdb_cursor_get", rc)
        return (key.bytes, value.bytes)
    }

    /// A positioning op that takes no input; `refresh` re-reads the entry for ops that do not set the key.
    private func move(_ op: MDB_cursor_op, refresh: Bool = false) throws -> Entry? {
        var key = MDB_val()
        var value = MDB_val()
        guard let entry = try get(op, &key, &value) else { return nil }
        return refresh ? try move(MDB_GET_CURRENT) : entry
    }

    /// A positioning op with a caller's key (and value), then MDB_GET_CURRENT so the entry points into the map.
    private func position(_ op: MDB_cursor_op, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer? = nil) throws -> Entry? {
        var k = MDB_val(key)
        var v = value.map(MDB_val.init) ?? MDB_val()
        guard try get(op, &k, &v) != nil else { return nil }
        return try move(MDB_GET_CURRENT)
    }

    public func first() throws -> Entry? { try move(MDB_FIRST) }
    public func last() throws -> Entry? { try move(MDB_LAST) }
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    public func prev() throws -> Entry? { try move(MDB_PREV) }
    /// MDB_SET_RANGE: first key >= `key`.
    public func seek(_ key: UnsafeRawBufferPointer) throws -> Entry? { try position(MDB_SET_RANGE, key) }
    public func seek(_ key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try seek($0) }
    }
    /// MDB_SET_KEY: exactly `key`.
    public func find(_ key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try position(MDB_SET_KEY, $0) }
    }
    /// Duplicates (dupSort databases): MDB_NEXT_DUP / MDB_PREV_DUP / MDB_FIRST_DUP / MDB_LAST_DUP / MDB_NEXT_NODUP
    /// (FIRST_DUP / LAST_DUP on an unpositioned cursor throw EINVAL; on a non-dupSort db MDB_INCOMPATIBLE.)
    public func nextDuplicate() throws -> Entry? { try move(MDB_NEXT_DUP) }
    public func previousDuplicate() throws -> Entry? { try move(MDB_PREV_DUP) }
    public func firstDuplicate() throws -> Entry? { try move(MDB_FIRST_DUP, refresh: true) }
    public func lastDuplicate() throws -> Entry? { try move(MDB_LAST_DUP, refresh: true) }
    public func nextKey() throws -> Entry? { try move(MDB_NEXT_NODUP) }
    /// MDB_GET_BOTH_RANGE: in a dupSort db, the first duplicate of `key` >= `value`.
    public func seekDuplicate(_ key: [UInt8], _ value: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try seekDuplicate(k, v) } }
    }
    /// The same from caller memory (the entry returned points into the map, not into `key` / `value`).
    public func seekDuplicate(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Entry? {
        try position(MDB_GET_BOTH_RANGE, key, value)
    }
    /// mdb_cursor_put (MDB_KEYEXIST throws here, also with noOverwrite / noDupData).
    public func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: LMDBTransaction.PutFlags = []) throws {
        var k = MDB_val(key)
        var v = MDB_val(value)
        try LMDB.check("mdb_cursor_put", mdb_cursor_put(handle, &k, &v, flags.lmdb))
    }
    /// mdb_cursor_put with MDB_MULTIPLE | MDB_APPENDDUP (a dupFixed db): `values` is `values.count / size`
    /// duplicates of `key` side by side, ascending, the first after the key's last. One call stores them all:
    /// the key is found once, not once per value. A value out of order throws MDB_KEYEXIST (the values before it
    /// stay in the transaction).
    public func appendDuplicates(_ key: UnsafeRawBufferPointer, _ values: UnsafeRawBufferPointer, size: Int) throws {
        precondition(size > 0 && values.count % size == 0, "values must be whole duplicates of `size` bytes")
        let count = values.count / size
        guard count > 0 else { return }
        var k = MDB_val(key)
        // MDB_MULTIPLE reads data[0] (one element's size, the first element) and data[1] (the element count; on
        // return, how many were written).
        let written = try withUnsafeTemporaryAllocation(of: MDB_val.self, capacity: 2) { data in
            data[0] = MDB_val(mv_size: size, mv_data: UnsafeMutableRawPointer(mutating: values.baseAddress))
            data[1] = MDB_val(mv_size: count, mv_data: nil)
            try LMDB.check("mdb_cursor_put", mdb_cursor_put(handle, &k, data.baseAddress,
                                                            UInt32(MDB_MULTIPLE) | UInt32(MDB_APPENDDUP)))
            return data[1].mv_size
        }
        precondition(written == count, "mdb_cursor_put(MDB_MULTIPLE) succeeded with \(written) of \(count) values")
    }
    /// mdb_cursor_del of the current entry.
    public func deleteCurrent() throws {
        try LMDB.check("mdb_cursor_del", mdb_cursor_del(handle, 0))
    }
}

extension MDB_val {
    /// A view of caller memory. LMDB never writes through an input MDB_val's mv_data, hence `mutating:`.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mv_data, count: mv_size)
    }
}
