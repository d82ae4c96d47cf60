import CLMDB
import Synchronization

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
        /// MDB_WRITEMAP on a map that only ever covers allocated blocks (see `LMDBEnvironment+MapGrowth.swift`):
        /// pages are written in place in the shared map instead of pwrite'n at commit. Ignored with `.readOnly`.
        public static let writeMap = Flags(rawValue: 1 << 2)
        /// MDB_NORDAHEAD
        public static let noReadAhead = Flags(rawValue: 1 << 3)
        /// MDB_RDONLY: open read-only (tools).
        public static let readOnly = Flags(rawValue: 1 << 4)
    }

    public let path: String
    /// The MDB_env: fixed from init to close.
    private let env: OpaquePointer
    private let readOnly: Bool
    /// Set once by close(); every method traps afterwards.
    private let closed = Atomic<Bool>(false)
    /// mdb_dbi_open must not run in two transactions at once (lmdb.h), so openDatabase is serialised.
    private let openLock = Mutex(())
    /// With `.writeMap`: every use of the map on the shared side, re-mapping on the exclusive side.
    let gate: ReadWriteGate?
    /// With `.writeMap`: the largest map this environment may grow to (the `mapSize` it was opened with).
    let maxMapSize: Int
    /// With `.writeMap`: writes left before the next early growth is tried after one failed (a full disk).
    let growthBackoff = Atomic<Int>(0)
    /// With `.writeMap`: transactions aborted by MDB_MAP_FULL and run again in a grown map, since open.
    public var mapFullRetries: Int { mapFullRetryCount.load(ordering: .relaxed) }
    let mapFullRetryCount = Atomic<Int>(0)

    /// Creates `path` as a directory when missing, then mdb_env_create / set_mapsize / set_maxdbs /
    /// set_maxreaders(126) / open(path, flags | MDB_NOTLS, 0o644).
    /// With `.readOnly` the directory is not created (a missing one throws LMDBError ENOENT (2)).
    /// With `.writeMap`, `mapSize` is the most the map may grow to; it starts at what is in use plus a step.
    public init(path: String, mapSize: Int, maxDatabases: Int, flags: Flags) throws {
        self.path = path
        self.readOnly = flags.contains(.readOnly)
        let writeMap = flags.contains(.writeMap) && !readOnly
        self.gate = writeMap ? ReadWriteGate() : nil
        self.maxMapSize = mapSize
        if !readOnly { try FileSystem.createDirectory(path) }
        var handle: OpaquePointer?
        try LMDB.check("mdb_env_create", mdb_env_create(&handle))
        guard let handle else { preconditionFailure("mdb_env_create returned no environment") }
        do {
            // With MDB_WRITEMAP, mdb_env_open ftruncates data.mdb to the map size: start at the smallest step
            // (LMDB raises it to the pages in use), so no hole larger than that exists before `establishMap`.
            let initial = writeMap ? min(mapSize, Self.reserveFloor) : mapSize
            try LMDB.check("mdb_env_set_mapsize", mdb_env_set_mapsize(handle, initial))
            try LMDB.check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(handle, MDB_dbi(maxDatabases)))
            try LMDB.check("mdb_env_set_maxreaders", mdb_env_set_maxreaders(handle, 126))
            try LMDB.check("mdb_env_open", mdb_env_open(handle, path, LMDB.environmentFlags(flags), 0o644))
        } catch var error as LMDBError {
            // mdb_env_close is the only way to free a handle, also after a failed mdb_env_open.
            mdb_env_close(handle)
            error.path = path
            throw error
        }
        self.env = handle
        if writeMap { try located { try establishMap() } }
    }

    deinit { close() }

    /// The environment handle; traps after close().
    private var handle: OpaquePointer {
        precondition(!closed.load(ordering: .acquiring), "LMDBEnvironment \(path) used after close()")
        return env
    }

    /// Opens (creating when `create`) a named database. Must be called before concurrent use; the returned
    /// handle is valid for the life of the environment.
    /// A missing database without `.create` throws LMDBError MDB_NOTFOUND; in a read-only environment it is
    /// opened in a read transaction (committed, so the handle is kept in the environment).
    public func openDatabase(_ name: String, _ flags: LMDBDatabase.Flags) throws -> LMDBDatabase {
        try located { try openDatabaseUnlocated(name, flags) }
    }

    /// A named database's handle if it exists, else nil (opened without `.create`: MDB_NOTFOUND means it does not).
    public func existingDatabase(_ name: String) throws -> LMDBDatabase? {
        do {
            return try openDatabase(name, [])
        } catch let e as LMDBError where e.code == MDB_NOTFOUND {
            return nil
        }
    }

    private func openDatabaseUnlocated(_ name: String, _ flags: LMDBDatabase.Flags) throws -> LMDBDatabase {
        var dbFlags: UInt32 = 0
        if flags.contains(.create) { dbFlags |= UInt32(MDB_CREATE) }
        if flags.contains(.dupSort) { dbFlags |= UInt32(MDB_DUPSORT) }
        if flags.contains(.dupFixed) { dbFlags |= UInt32(MDB_DUPFIXED) }
        let useWriteTransaction = flags.contains(.create) && !readOnly
        let open = { try self.openLock.withLock { _ in
            let txn = try LMDB.begin(self.handle, readOnly: !useWriteTransaction)
            var dbi: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, dbFlags, &dbi)
            guard rc == MDB_SUCCESS else {
                mdb_txn_abort(txn)
                throw LMDB.error("mdb_dbi_open", rc)
            }
            // Commit also for a read transaction: an aborted transaction closes the handles it opened.
            try LMDB.check("mdb_txn_commit", mdb_txn_commit(txn))
            return LMDBDatabase(name: name, dbi: dbi)
        } }
        guard gate != nil else { return try open() }
        return try retryingMapFull(open)
    }

    /// Runs `body` in a read-only transaction (mdb_txn_begin RDONLY … mdb_txn_abort).
    @discardableResult
    public func read<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        try located { try readUnlocated(body) }
    }

    private func readUnlocated<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        guard let gate else { return try readTransaction(body) }
        return try gate.shared { try readTransaction(body) }
    }

    private func readTransaction<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        let txn = try LMDB.begin(handle, readOnly: true)
        let transaction = LMDBTransaction(txn, readOnly: true)
        defer {
            transaction.invalidate()
            mdb_txn_abort(txn)
        }
        return try body(transaction)
    }

    /// Runs `body` in a write transaction; commits when it returns, aborts when it throws (and rethrows).
    /// A failed commit (e.g. MDB_MAP_FULL) throws LMDBError; the transaction is gone either way.
    /// With `.writeMap`, a transaction that fills the map is aborted, the map grown and `body` run again in a
    /// fresh transaction: `body` must leave no effect outside the transaction before it returns.
    @discardableResult
    public func write<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        try located {
            guard gate != nil else { return try writeTransaction(body) }
            return try writeGrowingMap(body)
        }
    }

    func writeTransaction<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        let txn = try LMDB.begin(handle, readOnly: false)
        let transaction = LMDBTransaction(txn, readOnly: false)
        let result: R
        do {
            result = try body(transaction)
        } catch {
            transaction.invalidate()
            mdb_txn_abort(txn)
            throw error
        }
        transaction.invalidate()
        // mdb_txn_commit frees the transaction also when it fails.
        try LMDB.check("mdb_txn_commit", mdb_txn_commit(txn))
        return result
    }

    /// mdb_env_sync(force: 1)
    public func sync() throws {
        try located { try onMap { try LMDB.check("mdb_env_sync", mdb_env_sync(handle, 1)) } }
    }

    /// Runs `body` on the shared side of the gate when there is one (anything that reads the map or the meta
    /// pages in it).
    @inline(__always)
    func onMap<R>(_ body: () throws -> R) rethrows -> R {
        guard let gate else { return try body() }
        return try gate.shared(body)
    }

    /// The MDB_env for the map-growth extension (same trap after close()).
    var environment: OpaquePointer { handle }

    /// Adds this environment's path to an LMDBError leaving `body`.
    private func located<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch var error as LMDBError where error.path == nil {
            error.path = path
            throw error
        }
    }

    /// Number of entries in a database (mdb_stat.ms_entries) in a fresh read transaction.
    public func entryCount(_ db: LMDBDatabase) throws -> Int {
        try read { try $0.entryCount(db) }
    }

    /// Size of data.mdb in use: (last used page number + 1) * page size, from mdb_env_info / mdb_env_stat.
    public func usedBytes() throws -> Int {
        try onMap { try usage().used }
    }

    /// Bytes in use ((last page + 1) × page size) and the current map size. Read the meta page: hold the gate.
    func usage() throws -> (used: Int, mapped: Int) {
        var info = MDB_envinfo()
        try LMDB.check("mdb_env_info", mdb_env_info(handle, &info))
        var stat = MDB_stat()
        try LMDB.check("mdb_env_stat", mdb_env_stat(handle, &stat))
        return ((Int(info.me_last_pgno) + 1) * Int(stat.ms_psize), Int(info.me_mapsize))
    }

    /// mdb_env_close; idempotent. Every transaction must have ended.
    public func close() {
        let (exchanged, _) = closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        if exchanged { mdb_env_close(env) }
    }
}

/// The LMDB calls shared by the environment, transactions and cursors.
enum LMDB {
    static func error(_ function: String, _ code: Int32) -> LMDBError {
        LMDBError(function: function, code: code, message: String(cString: mdb_strerror(code)))
    }

    /// Throws unless `code` is MDB_SUCCESS. LMDB returns errors (negative MDB_* codes or positive errno
    /// values); it does not use errno, so there is nothing to read afterwards.
    @inline(__always)
    static func check(_ function: String, _ code: Int32) throws {
        if code != MDB_SUCCESS { throw error(function, code) }
    }

    static func begin(_ env: OpaquePointer, readOnly: Bool) throws -> OpaquePointer {
        var txn: OpaquePointer?
        try check("mdb_txn_begin", mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn))
        return txn!
    }

    /// MDB_NOTLS always: a read transaction is not bound to the thread that began it (Swift tasks hop threads);
    /// each transaction is still used by one thread at a time, inside its closure.
    static func environmentFlags(_ flags: LMDBEnvironment.Flags) -> UInt32 {
        var raw = UInt32(MDB_NOTLS)
        if flags.contains(.noSync) { raw |= UInt32(MDB_NOSYNC) }
        if flags.contains(.noMetaSync) { raw |= UInt32(MDB_NOMETASYNC) }
        if flags.contains(.noReadAhead) { raw |= UInt32(MDB_NORDAHEAD) }
        if flags.contains(.writeMap) && !flags.contains(.readOnly) { raw |= UInt32(MDB_WRITEMAP) }
        if flags.contains(.readOnly) { raw |= UInt32(MDB_RDONLY) }
        return raw
    }
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

/// Errors from LMDB calls: the function, the environment's path (set by `LMDBEnvironment` when the error leaves
/// it) and LMDB's return code (a negative MDB_* code, or an errno such as ENOSPC / EIO from a failed write).
public struct LMDBError: Error, CustomStringConvertible, Sendable, Equatable {
    public var function: String
    public var code: Int32
    public var message: String
    public var path: String?
    public init(function: String, code: Int32, message: String, path: String? = nil) {
        self.function = function; self.code = code; self.message = message; self.path = path
    }
    /// "mdb_txn_commit /data/index: EIO (Input/output error)"; MDB codes keep their number.
    public var description: String {
        let name = code > 0 ? SystemError.name(ofErrno: code) : "\(code)"
        return "\(function)\(path.map { " \($0)" } ?? ""): \(name) (\(message))"
    }
    /// MDB_MAP_FULL
    public var isMapFull: Bool { code == -30792 }
}
