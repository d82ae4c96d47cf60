import CLMDB
import Glibc
import Synchronization

/// MDB_WRITEMAP without SIGBUS on a full disk.
///
/// With MDB_WRITEMAP, LMDB writes pages in place in a shared mapping of data.mdb and ftruncates the file to the
/// map size. A store into a hole of that file needs a block; on a full file system there is none and the
/// kernel raises SIGBUS, which kills the process. So the map is never larger than what is allocated:
///
/// **Invariant: every byte of data.mdb in [0, map size) has blocks** (reserved with posix_fallocate before the
/// map reaches it). LMDB never touches a page at or past the map size: a transaction that needs one fails with
/// MDB_MAP_FULL, an error code. Established in `establishMap` before the first write transaction, kept by
/// `grow`, which reserves first and re-maps after (the re-map's ftruncate then changes nothing).
///
/// Growth: early, when less than half a `growthUnit` is left before a write transaction (the common case never
/// sees MAP_FULL); and after MAP_FULL, when one transaction needed more than was left (a large delete copies
/// every page it touches), which aborts it, grows and runs it again. Re-mapping is allowed only while this
/// process has no transaction open (lmdb.h, mdb_env_set_mapsize), so every transaction holds the gate's shared
/// side and `grow` its exclusive side. A transaction must not begin another inside its closure: a write that
/// needed to grow the map there would wait for itself, so it traps (`ReadWriteGate.exclusive`).
///
/// The map grows by a quarter of what is used, at least one `growthUnit`, up to the size the environment was
/// opened with; that much disk is allocated ahead of use, but early growth never takes more than half of the
/// file system's free space (it asks for less, down to `reserveFloor`).
extension LMDBEnvironment {
    /// The smallest growth step while the disk has room (a new map reaches it at its first early growth).
    static let growthUnit = 8 << 20

    /// Makes the invariant true for the map mdb_env_open made (the pages in use, at least `reserveFloor`):
    /// reserves [0, map size), or on failure (a full disk) shrinks the map to the pages in use, which were written
    /// and so have blocks. Then grows it early once; writes grow it further or fail.
    func establishMap() throws {
        try gate!.exclusive {
            let (used, mapped) = try usage()
            do {
                try reserve(mapped)
            } catch {
                // Rounded up by LMDB to the pages in use.
                try LMDB.check("mdb_env_set_mapsize", mdb_env_set_mapsize(environment, used))
            }
            try? growHoldingGate(mapFull: false)
        }
    }

    func writeGrowingMap<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        // Early growth, outside any transaction. Failing it (a full disk) is not yet an error: the transaction
        // may still fit. It is not tried again for the next 256 writes.
        if growthBackoff.load(ordering: .relaxed) > 0 {
            growthBackoff.wrappingSubtract(1, ordering: .relaxed)
        } else {
            let (used, mapped) = try onMap { try usage() }
            if mapped - used < Self.growthUnit / 2, mapped < maxMapSize {
                do { try grow(mapFull: false) } catch { growthBackoff.store(256, ordering: .relaxed) }
            }
        }
        return try retryingMapFull { try writeTransaction(body) }
    }

    /// Runs `attempt` (one transaction) on the shared side; after MDB_MAP_FULL (the transaction aborted, nothing
    /// of it in the map) grows the map and runs it again. Each growth at least doubles the free part when the
    /// disk allows, so this ends at `maxMapSize` (MDB_MAP_FULL) or when no block can be had (posix_fallocate's
    /// error).
    func retryingMapFull<R>(_ attempt: () throws -> R) throws -> R {
        while true {
            do {
                return try gate!.shared(attempt)
            } catch let error as LMDBError where error.isMapFull {
                guard try onMap({ try usage().mapped }) < maxMapSize else { throw error }
                try grow(mapFull: true)
                mapFullRetryCount.add(1, ordering: .relaxed)
            }
        }
    }

    private func grow(mapFull: Bool) throws {
        try gate!.exclusive { try growHoldingGate(mapFull: mapFull) }
    }

    /// Reserves, then re-maps to, the next size: a quarter of what is used more (at least `growthUnit`), after
    /// MDB_MAP_FULL at least twice the free part. When the disk cannot give that, half as much more, down to
    /// `reserveFloor`; nothing at all throws LMDBError("posix_fallocate", errno) and leaves the map as it was.
    private func growHoldingGate(mapFull: Bool) throws {
        let (used, mapped) = try usage()
        var target = used + max(Self.growthUnit, used / 4)
        if mapFull { target = max(target, 2 * mapped - used) }
        target = min(maxMapSize, Self.roundUp(target))
        // Early growth takes at most half of what the file system has free, so the index reserving ahead never
        // leaves the log (or another store) without room; after MDB_MAP_FULL the transaction needs it now.
        let free = mapFull ? Int.max : freeBytes()
        var failure: Error?
        while target > mapped {
            do {
                if target - mapped > free / 2 {
                    throw LMDBError(function: "posix_fallocate", code: ENOSPC,
                                    message: "\(free) bytes free: growing by \(target - mapped) would take over half", path: path)
                }
                try reserve(target)
                try LMDB.check("mdb_env_set_mapsize", mdb_env_set_mapsize(environment, target))
                growthBackoff.store(0, ordering: .relaxed)
                return
            } catch let error as LMDBError where error.function == "posix_fallocate" {
                failure = error
                let half = Self.roundUp(mapped + (target - mapped) / 2)
                guard half < target, half - mapped >= Self.reserveFloor else { break }
                target = half
            }
        }
        if let failure { throw failure }
    }

    /// f_bavail × f_frsize of the file system holding the environment (0 when it cannot be read).
    private func freeBytes() -> Int {
        guard let st = try? Sys.fileSystemStatus(path) else { return 0 }
        return Int(st.f_bavail) * Int(st.f_frsize)
    }

    /// The smallest step a nearly full disk is still asked for.
    static let reserveFloor = 64 << 10

    private static func roundUp(_ bytes: Int) -> Int { (bytes + reserveFloor - 1) / reserveFloor * reserveFloor }

    /// posix_fallocate(data.mdb, 0, bytes), as an LMDBError so callers see one error type from the index.
    private func reserve(_ bytes: Int) throws {
        var fd: Int32 = -1
        try LMDB.check("mdb_env_get_fd", mdb_env_get_fd(environment, &fd))
        do {
            try Sys.posixFallocate(fd, bytes, path + "/data.mdb")
        } catch let error as SystemError {
            throw LMDBError(function: "posix_fallocate", code: error.errno, message: error.message, path: path)
        }
    }
}
