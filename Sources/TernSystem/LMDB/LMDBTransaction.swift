/// A transaction, valid only inside the closure of `LMDBEnvironment.read` / `.write` that received it.
/// Using it afterwards traps. Byte views returned by `get` / cursors are valid until the transaction ends
/// or (in a write transaction) until the next write.
/// API CONTRACT — implemented by TernSystem.
public final class LMDBTransaction {
    public struct PutFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let noOverwrite = PutFlags(rawValue: 1 << 0)  // MDB_NOOVERWRITE: returns false if key exists
        public static let noDupData = PutFlags(rawValue: 1 << 1)    // MDB_NODUPDATA: returns false if pair exists
        public static let append = PutFlags(rawValue: 1 << 2)       // MDB_APPEND: key must sort after the last
        public static let appendDup = PutFlags(rawValue: 1 << 3)    // MDB_APPENDDUP
    }

    public var isReadOnly: Bool { fatalError("contract") }

    public func get(_ db: LMDBDatabase, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? { fatalError("contract") }
    public func get(_ db: LMDBDatabase, _ key: [UInt8]) throws -> [UInt8]? { fatalError("contract") }

    /// Returns false when MDB_KEYEXIST with noOverwrite / noDupData; other failures throw.
    @discardableResult
    public func put(_ db: LMDBDatabase, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: PutFlags = []) throws -> Bool { fatalError("contract") }
    @discardableResult
    public func put(_ db: LMDBDatabase, _ key: [UInt8], _ value: [UInt8], _ flags: PutFlags = []) throws -> Bool { fatalError("contract") }

    /// Deletes the key (all duplicates) or, with `value`, one duplicate. Returns false when not found.
    @discardableResult
    public func delete(_ db: LMDBDatabase, _ key: [UInt8], value: [UInt8]? = nil) throws -> Bool { fatalError("contract") }

    /// mdb_drop(db, 0): empties the database.
    public func clear(_ db: LMDBDatabase) throws { fatalError("contract") }

    /// Entries in the database as seen by this transaction.
    public func entryCount(_ db: LMDBDatabase) throws -> Int { fatalError("contract") }

    /// Opens a cursor closed automatically when `body` returns.
    public func withCursor<R>(_ db: LMDBDatabase, _ body: (LMDBCursor) throws -> R) throws -> R { fatalError("contract") }
}

/// A cursor, valid only inside `withCursor`'s closure. Every positioning call returns the entry it lands on,
/// or nil when there is none (MDB_NOTFOUND).
/// API CONTRACT — implemented by TernSystem.
public final class LMDBCursor {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    public func first() throws -> Entry? { fatalError("contract") }
    public func last() throws -> Entry? { fatalError("contract") }
    public func next() throws -> Entry? { fatalError("contract") }
    public func prev() throws -> Entry? { fatalError("contract") }
    /// MDB_SET_RANGE: first key >= `key`.
    public func seek(_ key: UnsafeRawBufferPointer) throws -> Entry? { fatalError("contract") }
    public func seek(_ key: [UInt8]) throws -> Entry? { fatalError("contract") }
    /// MDB_SET_KEY: exactly `key`.
    public func find(_ key: [UInt8]) throws -> Entry? { fatalError("contract") }
    /// Duplicates (dupSort databases): MDB_NEXT_DUP / MDB_PREV_DUP / MDB_FIRST_DUP / MDB_LAST_DUP / MDB_NEXT_NODUP
    public func nextDuplicate() throws -> Entry? { fatalError("contract") }
    public func previousDuplicate() throws -> Entry? { fatalError("contract") }
    public func firstDuplicate() throws -> Entry? { fatalError("contract") }
    public func lastDuplicate() throws -> Entry? { fatalError("contract") }
    public func nextKey() throws -> Entry? { fatalError("contract") }
    /// MDB_GET_BOTH_RANGE: in a dupSort db, the first duplicate of `key` >= `value`.
    public func seekDuplicate(_ key: [UInt8], _ value: [UInt8]) throws -> Entry? { fatalError("contract") }
    /// mdb_cursor_put
    public func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: LMDBTransaction.PutFlags = []) throws { fatalError("contract") }
    /// mdb_cursor_del of the current entry.
    public func deleteCurrent() throws { fatalError("contract") }
}
