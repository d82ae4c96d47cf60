import Glibc
import Testing
import TernSystem

// lmdb.h return codes (the tests do not import CLMDB: only TernSystem may).
private let MDB_KEYEXIST: Int32 = -30799
private let MDB_NOTFOUND: Int32 = -30798
private let MDB_MAP_FULL: Int32 = -30792
private let MDB_BAD_VALSIZE: Int32 = -30781

/// Runs `body` with a fresh environment in a temporary directory.
private func withEnvironment<R>(
    mapSize: Int = 16 << 20, flags: LMDBEnvironment.Flags = [.noSync],
    _ body: (LMDBEnvironment, String) throws -> R
) throws -> R {
    try withTemporaryDirectory { dir throws in
        let path = dir + "/env"
        let env = try LMDBEnvironment(path: path, mapSize: mapSize, maxDatabases: 8, flags: flags)
        defer { env.close() }
        return try body(env, path)
    }
}

private struct Boom: Error {}

/// Keys and values of a cursor entry as strings, for comparisons.
private func pair(_ entry: LMDBCursor.Entry?) -> [String]? {
    entry.map { [string($0.key)!, string($0.value)!] }
}

@Suite struct LMDBTests {
    @Test func putGetOverwriteAndNoOverwrite() throws {
        try withEnvironment { env, path throws in
            #expect(env.path == path)
            #expect(FileSystem.fileExists(path + "/data.mdb"))
            let db = try env.openDatabase("kv", [.create])
            #expect(db.name == "kv")
            try env.write { txn throws in
                #expect(!txn.isReadOnly)
                #expect(try txn.put(db, bytes("a"), bytes("1")))
                #expect(try txn.put(db, bytes("a"), bytes("2")))  // overwrite
                #expect(try !txn.put(db, bytes("a"), bytes("3"), .noOverwrite))
                #expect(try txn.put(db, bytes("b"), bytes("x"), .noOverwrite))
                // A write transaction sees its own writes.
                #expect(try txn.get(db, bytes("a")) == bytes("2"))
            }
            try env.read { txn throws in
                #expect(txn.isReadOnly)
                #expect(try txn.get(db, bytes("a")) == bytes("2"))
                #expect(try txn.get(db, bytes("b")) == bytes("x"))
                #expect(try txn.get(db, bytes("c")) == nil)
                let view = try bytes("b").withUnsafeBytes { try txn.get(db, $0) }
                #expect(string(view) == "x")
            }
            #expect(try env.entryCount(db) == 2)
            // Empty keys are rejected by LMDB.
            let error = #expect(throws: LMDBError.self) { try env.write { try $0.put(db, [], bytes("v")) } }
            #expect(error?.code == MDB_BAD_VALSIZE)
        }
    }

    @Test func appendOutOfOrderThrowsKeyExist() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("log", [.create])
            try env.write { txn throws in
                for i: UInt8 in 1...5 { #expect(try txn.put(db, [i], [i], .append)) }
            }
            let error = #expect(throws: LMDBError.self) {
                try env.write { try $0.put(db, [3], [0], .append) }
            }
            #expect(error?.code == MDB_KEYEXIST)
            #expect(error?.function == "mdb_put")
            // Also with noOverwrite: an append flag makes MDB_KEYEXIST ambiguous, so it throws.
            #expect(throws: LMDBError.self) { try env.write { try $0.put(db, [2], [0], [.append, .noOverwrite]) } }
            #expect(try env.read { try $0.get(db, [3]) } == [3])
            #expect(try env.entryCount(db) == 5)
        }
    }

    @Test func duplicatesNavigation() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("dups", [.create, .dupSort])
            try env.write { txn throws in
                for (k, v) in [("k1", "c"), ("k1", "a"), ("k1", "b"), ("k2", "z"), ("k3", "m"), ("k3", "n")] {
                    try txn.put(db, bytes(k), bytes(v))
                }
                #expect(try !txn.put(db, bytes("k1"), bytes("a"), .noDupData))
                #expect(try txn.put(db, bytes("k1"), bytes("d"), .noDupData))
                #expect(try txn.put(db, bytes("k1"), bytes("e"), .appendDup))
                #expect(throws: LMDBError.self) { try txn.put(db, bytes("k1"), bytes("0"), .appendDup) }
            }
            #expect(try env.entryCount(db) == 8)
            try env.read { txn throws in
                try txn.withCursor(db) { c throws in
                    #expect(pair(try c.find(bytes("k1"))) == ["k1", "a"])
                    #expect(pair(try c.nextDuplicate()) == ["k1", "b"])
                    #expect(pair(try c.lastDuplicate()) == ["k1", "e"])
                    #expect(try c.nextDuplicate() == nil)
                    #expect(pair(try c.previousDuplicate()) == ["k1", "d"])
                    #expect(pair(try c.firstDuplicate()) == ["k1", "a"])
                    #expect(pair(try c.nextKey()) == ["k2", "z"])
                    #expect(try c.nextDuplicate() == nil)
                    #expect(pair(try c.nextKey()) == ["k3", "m"])
                    #expect(try c.nextKey() == nil)

                    #expect(pair(try c.seekDuplicate(bytes("k1"), bytes("bb"))) == ["k1", "c"])
                    #expect(pair(try c.seekDuplicate(bytes("k3"), bytes("n"))) == ["k3", "n"])
                    #expect(try c.seekDuplicate(bytes("k2"), bytes("zz")) == nil)
                    #expect(try c.seekDuplicate(bytes("k0"), bytes("a")) == nil)
                    #expect(try c.find(bytes("k")) == nil)
                }
            }
            // Delete one duplicate, then the whole key.
            try env.write { txn throws in
                #expect(try txn.delete(db, bytes("k1"), value: bytes("b")))
                #expect(try !txn.delete(db, bytes("k1"), value: bytes("b")))
                #expect(try txn.delete(db, bytes("k3")))
                #expect(try !txn.delete(db, bytes("k3")))
            }
            #expect(try env.entryCount(db) == 5)  // k1: a c d e, k2: z
        }
    }

    @Test func cursorPositioning() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("sorted", [.create])
            try env.write { txn throws in
                for k in ["b", "d", "f"] { try txn.put(db, bytes(k), bytes(k.uppercased())) }
            }
            try env.read { txn throws in
                try txn.withCursor(db) { c throws in
                    #expect(pair(try c.next()) == ["b", "B"])  // unpositioned next = first
                    #expect(pair(try c.seek(bytes("c"))) == ["d", "D"])
                    #expect(pair(try c.seek(bytes("d"))) == ["d", "D"])
                    #expect(pair(try c.next()) == ["f", "F"])
                    #expect(try c.next() == nil)
                    #expect(try c.seek(bytes("g")) == nil)
                    #expect(pair(try c.last()) == ["f", "F"])
                    #expect(pair(try c.prev()) == ["d", "D"])
                    #expect(pair(try c.first()) == ["b", "B"])
                    #expect(try c.prev() == nil)
                    #expect(pair(try c.find(bytes("f"))) == ["f", "F"])
                    #expect(try c.find(bytes("e")) == nil)
                    let viaBuffer = try bytes("a").withUnsafeBytes { try c.seek($0) }
                    #expect(pair(viaBuffer) == ["b", "B"])
                }
            }
            // An empty database: every positioning call lands nowhere.
            let empty = try env.openDatabase("empty", [.create])
            try env.read { txn throws in
                try txn.withCursor(empty) { c throws in
                    #expect(try c.first() == nil)
                    #expect(try c.last() == nil)
                    #expect(try c.seek(bytes("a")) == nil)
                }
            }
        }
    }

    @Test func cursorPutAndDeleteCurrent() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("c", [.create])
            try env.write { txn throws in
                try txn.withCursor(db) { c throws in
                    for k in ["1", "2", "3"] {
                        try bytes(k).withUnsafeBytes { key in try bytes("v" + k).withUnsafeBytes { try c.put(key, $0) } }
                    }
                    #expect(pair(try c.find(bytes("2"))) == ["2", "v2"])
                    try c.deleteCurrent()
                    let error = #expect(throws: LMDBError.self) {
                        try bytes("1").withUnsafeBytes { key in try bytes("x").withUnsafeBytes { try c.put(key, $0, .noOverwrite) } }
                    }
                    #expect(error?.code == MDB_KEYEXIST)
                }
            }
            try env.read { txn throws in
                #expect(try txn.get(db, bytes("2")) == nil)
                #expect(try txn.get(db, bytes("1")) == bytes("v1"))
                #expect(try txn.entryCount(db) == 2)
            }
        }
    }

    @Test func clearEmptiesTheDatabase() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("c", [.create])
            let other = try env.openDatabase("other", [.create])
            try env.write { txn throws in
                for i: UInt8 in 0..<50 { try txn.put(db, [i], [i]) }
                try txn.put(other, [1], [1])
            }
            #expect(try env.entryCount(db) == 50)
            try env.write { txn throws in
                try txn.clear(db)
                #expect(try txn.entryCount(db) == 0)
            }
            #expect(try env.entryCount(db) == 0)
            #expect(try env.entryCount(other) == 1)
            // The handle stays usable after clear.
            try env.write { try $0.put(db, [9], [9]) }
            #expect(try env.read { try $0.get(db, [9]) } == [9])
        }
    }

    @Test func throwingWriteAborts() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("t", [.create])
            try env.write { try $0.put(db, bytes("kept"), bytes("1")) }
            #expect(throws: Boom.self) {
                try env.write { txn throws in
                    try txn.put(db, bytes("lost"), bytes("1"))
                    try txn.delete(db, bytes("kept"))
                    throw Boom()
                }
            }
            try env.read { txn throws in
                #expect(try txn.get(db, bytes("lost")) == nil)
                #expect(try txn.get(db, bytes("kept")) == bytes("1"))
            }
            #expect(try env.entryCount(db) == 1)
            // The write lock was released by the abort: another write works.
            let value = try env.write { txn -> Int in
                try txn.put(db, bytes("next"), bytes("2"))
                return 42
            }
            #expect(value == 42)
            #expect(try env.entryCount(db) == 2)
        }
    }

    @Test func readTransactionSeesSnapshot() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("s", [.create])
            try env.write { try $0.put(db, [1], [1]) }
            try env.read { txn throws in
                try env.write { try $0.put(db, [2], [2]) }  // MDB_NOTLS: a read txn does not block this thread
                #expect(try txn.entryCount(db) == 1)
                #expect(try txn.get(db, [2]) == nil)
            }
            #expect(try env.entryCount(db) == 2)
        }
    }

    @Test func openMissingDatabaseWithoutCreate() throws {
        try withEnvironment { env, path throws in
            let error = #expect(throws: LMDBError.self) { try env.openDatabase("missing", []) }
            #expect(error?.code == MDB_NOTFOUND)
            #expect(error?.path == path && error?.description.contains(path) == true)
            _ = try env.openDatabase("present", [.create])
            #expect(try env.openDatabase("present", []).name == "present")
        }
    }

    @Test func readOnlyEnvironment() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/env"
            do {
                let env = try LMDBEnvironment(path: path, mapSize: 1 << 20, maxDatabases: 4, flags: [])
                let db = try env.openDatabase("data", [.create, .dupSort])
                try env.write { try $0.put(db, bytes("k"), bytes("v")) }
                env.close()
                env.close()  // idempotent
            }
            let env = try LMDBEnvironment(path: path, mapSize: 1 << 20, maxDatabases: 4, flags: [.readOnly])
            defer { env.close() }
            let db = try env.openDatabase("data", [.dupSort])
            #expect(try env.read { try $0.get(db, bytes("k")) } == bytes("v"))
            #expect(try env.entryCount(db) == 1)
            #expect(try env.usedBytes() > 0)

            let missing = #expect(throws: LMDBError.self) { try env.openDatabase("missing", []) }
            #expect(missing?.code == MDB_NOTFOUND)
            #expect(throws: LMDBError.self) { try env.openDatabase("new", [.create]) }
            let write = #expect(throws: LMDBError.self) { try env.write { try $0.put(db, bytes("x"), bytes("y")) } }
            #expect(write?.function == "mdb_txn_begin")

            // A read-only environment does not create its directory.
            let absent = #expect(throws: LMDBError.self) {
                try LMDBEnvironment(path: dir + "/absent", mapSize: 1 << 20, maxDatabases: 4, flags: [.readOnly])
            }
            #expect(absent?.code == 2)  // ENOENT
            #expect(!FileSystem.fileExists(dir + "/absent"))
        }
    }

    @Test func mapFullSurfaces() throws {
        try withEnvironment(mapSize: 256 << 10) { env, _ throws in
            let db = try env.openDatabase("big", [.create])
            let value = [UInt8](repeating: 7, count: 3000)
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in
                    for i in 0..<1000 { try txn.put(db, bytes("key\(i)"), value) }
                }
            }
            #expect(error?.isMapFull == true)
            #expect(error?.code == MDB_MAP_FULL)
            // The failed transaction was aborted; the environment stays usable.
            #expect(try env.entryCount(db) == 0)
            try env.write { try $0.put(db, bytes("small"), bytes("ok")) }
            #expect(try env.entryCount(db) == 1)
        }
    }

    @Test func usedBytesGrowsAndSync() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("u", [.create])
            let before = try env.usedBytes()
            try env.write { txn throws in
                for i in 0..<200 { try txn.put(db, bytes("key\(i)"), [UInt8](repeating: 1, count: 500)) }
            }
            try env.sync()
            let after = try env.usedBytes()
            #expect(before > 0)
            #expect(after >= before + 200 * 500)
        }
    }

    /// One MDB_MULTIPLE call appends a key's run of fixed-size values after its last duplicate: enough of them to
    /// outgrow the key's inline sub-page and several sub-tree pages, and two keys filled alternately. A value
    /// not after the key's last throws MDB_KEYEXIST.
    @Test func appendDuplicatesStoresARunInOneCall() throws {
        try withEnvironment { env, _ throws in
            let db = try env.openDatabase("runs", [.create, .dupSort, .dupFixed])
            // Values: v big-endian (4) + 4 filler bytes.
            func append(_ key: String, _ values: Range<UInt32>, _ c: LMDBCursor) throws {
                let run = values.flatMap { v -> [UInt8] in withUnsafeBytes(of: v.bigEndian) { Array($0) } + [7, 7, 7, 7] }
                try bytes(key).withUnsafeBytes { k in try run.withUnsafeBytes { try c.appendDuplicates(k, $0, size: 8) } }
            }
            func values(_ key: String, _ c: LMDBCursor) throws -> [UInt32] {
                var seen: [UInt32] = []
                var e = try c.find(bytes(key))
                while let (_, v) = e { seen.append(UInt32(bigEndian: v.loadUnaligned(as: UInt32.self))); e = try c.nextDuplicate() }
                return seen
            }
            try env.write { txn throws in
                try txn.withCursor(db) { c throws in
                    try append("a", 0..<1_000, c)
                    try append("b", 0..<3, c)
                    try append("a", 1_000..<2_500, c)
                    try append("b", 3..<4, c)
                    try append("b", 4..<4, c)
                }
            }
            try env.read { txn throws in
                try txn.withCursor(db) { c throws in
                    #expect(try values("a", c) == Array(0..<2_500))
                    #expect(try values("b", c) == [0, 1, 2, 3])
                }
            }
            #expect(throws: LMDBError.self) {
                try env.write { txn throws in try txn.withCursor(db) { c throws in try append("a", 2_400..<2_600, c) } }
            }
            #expect(try env.read { try $0.entryCount(db) } == 2_504)
        }
    }

    @Test func noMetaSyncNoReadAheadEnvironment() throws {
        try withEnvironment(flags: [.noMetaSync, .noReadAhead]) { env, _ throws in
            let db = try env.openDatabase("w", [.create, .dupSort, .dupFixed])
            try env.write { txn throws in
                for v: UInt8 in [3, 1, 2] { try txn.put(db, bytes("k"), [v, 0, 0, 0]) }
            }
            try env.read { txn throws in
                try txn.withCursor(db) { c throws in
                    #expect(try c.first().map { Array($0.value) } == [1, 0, 0, 0])
                    #expect(try c.lastDuplicate().map { Array($0.value) } == [3, 0, 0, 0])
                }
            }
        }
    }
}

/// Escaping a transaction or cursor from its closure and using it traps (exit tests run in a child process).
@Suite struct LMDBMisuseTests {
    @Test func transactionUsedAfterItsClosureTraps() async {
        await #expect(processExitsWith: .signal(SIGILL)) {
            try withEnvironment { env, _ in
                let db = try env.openDatabase("x", [.create])
                let escaped = try env.read { $0 }
                _ = try escaped.get(db, [1])
            }
        }
    }

    @Test func cursorUsedAfterItsClosureTraps() async {
        await #expect(processExitsWith: .signal(SIGILL)) {
            try withEnvironment { env, _ in
                let db = try env.openDatabase("x", [.create])
                try env.write { txn throws in
                    let escaped = try txn.withCursor(db) { $0 }
                    _ = try escaped.first()
                }
            }
        }
    }

    @Test func environmentUsedAfterCloseTraps() async {
        await #expect(processExitsWith: .signal(SIGILL)) {
            try withEnvironment { env, _ in
                env.close()
                _ = try env.usedBytes()
            }
        }
    }
}
