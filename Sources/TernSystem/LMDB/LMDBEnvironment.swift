/// A safe wrapper over an LMDB environment (one directory with data.mdb + lock.mdb).
///
/// Threading: opened with MDB_NOTLS, so a read transaction may run on any thread; every transaction is
/// confined to the closure that receives it and must not escape it. Write transactions are serialised by LMDB.
/// Keys and values handed out inside a closure point into the map and are valid only inside that closure.
///
/// API CONTRACT — implemented by TernSystem.
public final class LMDBEnvironment: @unchecked Sendable {
    // @unchecked Sendable: MDB_env is safe to share between threads (lmdb.h); the handle is immutable after
    // init and closed only in deinit / close(), after which every method traps.

    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// MDB_NOSYNC: commits do not fsync; call `sync()` to make them durable.
        public static let noSync = Flags(rawValue: 1 << 0)
        /// MDB_NOMETASYNC: fsync data but not the meta page on commit.
        public static let noMetaSync = Flags(rawValue: 1 << 1)
        /// MDB_WRITEMAP: write through a writable map (faster puts; stray writes can corrupt the DB).
        public static let writeMap = Flags(rawValue: 1 << 2)
        /// MDB_NORDAHEAD
        public static let noReadAhead = Flags(rawValue: 1 << 3)
        /// MDB_RDONLY: open read-only (tools).
        public static let readOnly = Flags(rawValue: 1 << 4)
    }

    public let path: String

    /// Creates `path` as a directory when missing, then mdb_env_create / set_mapsize / set_maxdbs /
    /// set_maxreaders(126) / open(path, flags | MDB_NOTLS, 0o644).
    public init(path: String, mapSize: Int, maxDatabases: Int, flags: Flags) throws { fatalError("contract") }

    /// Opens (creating when `create`) a named database. Must be called before concurrent use; the returned
    /// handle is valid for the life of the environment.
    public func openDatabase(_ name: String, _ flags: LMDBDatabase.Flags) throws -> LMDBDatabase { fatalError("contract") }

    /// Runs `body` in a read-only transaction (mdb_txn_begin RDONLY … mdb_txn_abort).
    public func read<R>(_ body: (LMDBTransaction) throws -> R) throws -> R { fatalError("contract") }

    /// Runs `body` in a write transaction; commits when it returns, aborts when it throws (and rethrows).
    public func write<R>(_ body: (LMDBTransaction) throws -> R) throws -> R { fatalError("contract") }

    /// mdb_env_sync(force: 1)
    public func sync() throws { fatalError("contract") }

    /// Number of entries in a database (mdb_stat.ms_entries) in a fresh read transaction.
    public func entryCount(_ db: LMDBDatabase) throws -> Int { fatalError("contract") }

    /// Size of data.mdb in use (last page number * page size, from mdb_env_info).
    public func usedBytes() throws -> Int { fatalError("contract") }

    /// mdb_env_close; idempotent. Every transaction must have ended.
    public func close() { fatalError("contract") }
}

/// A named database handle (MDB_dbi). Cheap to copy.
public struct LMDBDatabase: Sendable, Hashable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let create = Flags(rawValue: 1 << 0)     // MDB_CREATE
        public static let dupSort = Flags(rawValue: 1 << 1)    // MDB_DUPSORT
        public static let dupFixed = Flags(rawValue: 1 << 2)   // MDB_DUPFIXED (with dupSort)
    }
    public let name: String
    public let dbi: UInt32
    public init(name: String, dbi: UInt32) { self.name = name; self.dbi = dbi }
}

/// Errors from LMDB calls: the function name and LMDB's return code (mdb_strerror text).
public struct LMDBError: Error, CustomStringConvertible, Sendable, Equatable {
    public var function: String
    public var code: Int32
    public var message: String
    public init(function: String, code: Int32, message: String) {
        self.function = function; self.code = code; self.message = message
    }
    public var description: String { "\(function): \(message) (\(code))" }
    /// MDB_MAP_FULL
    public var isMapFull: Bool { code == -30792 }
}
