import Foundation
import Glibc
import Synchronization
import Testing
import TernSystem

/// MDB_WRITEMAP environments: the map only ever covers allocated blocks, grows ahead of use and after a
/// transaction that filled it, and a full disk is an error with the committed data intact.
@Suite("LMDB write map", .serialized)
struct LMDBWriteMapTests {
    /// data.mdb's size and allocated bytes.
    private static func fileSpace(_ path: String) -> (size: Int, allocated: Int) {
        var st = stat()
        precondition(stat(path + "/data.mdb", &st) == 0)
        return (Int(st.st_size), Int(st.st_blocks) * 512)
    }

    private static func value(_ i: Int, size: Int = 3000) -> [UInt8] {
        var v = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: size)
        withUnsafeBytes(of: UInt64(i).bigEndian) { v.replaceSubrange(0..<8, with: $0) }
        return v
    }

    private static func key(_ i: Int) -> [UInt8] { Array(String(format: "k%08d", i).utf8) }

    /// A write-mapped environment at `path` that may grow to 1 GiB, and its "kv" table.
    static func open(_ path: String) throws -> (LMDBEnvironment, LMDBDatabase) {
        let env = try LMDBEnvironment(path: path, mapSize: 1 << 30, maxDatabases: 4, flags: [.noSync, .writeMap])
        return (env, try env.openDatabase("kv", [.create]))
    }

    @Test func theMapGrowsAheadOfUseAndHasNoHoles() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/env"
            var sizes: Set<Int> = []
            do {
                let (env, db) = try Self.open(path)
                defer { env.close() }
                for batch in 0..<60 {
                    try env.write { t throws in
                        for i in batch * 100 ..< (batch + 1) * 100 { _ = try t.put(db, Self.key(i), Self.value(i)) }
                    }
                    let space = Self.fileSpace(path)
                    // The invariant: every byte the map covers (the file's size, LMDB ftruncates it to the map) has
                    // blocks, so no store through the map can meet a hole.
                    #expect(space.allocated >= space.size, "batch \(batch): \(space)")
                    #expect(space.size >= (try env.usedBytes()))
                    sizes.insert(space.size)
                }
            }
            // 6,000 × 3,000-byte values (~24 MiB, one overflow page each) grew an 8 MiB map several times.
            #expect(sizes.count >= 3, "\(sizes.sorted())")
            #expect(sizes.max()! > 24 << 20)
            // Readable after reopening, with and without the write map.
            for flags: LMDBEnvironment.Flags in [[.noSync], [.noSync, .writeMap], [.readOnly]] {
                let env = try LMDBEnvironment(path: path, mapSize: 1 << 30, maxDatabases: 4, flags: flags)
                defer { env.close() }
                let db = try env.openDatabase("kv", [])
                try env.read { t throws in
                    for i in stride(from: 0, to: 6000, by: 7) { #expect(try t.get(db, Self.key(i)) == Self.value(i)) }
                }
                #expect(try env.entryCount(db) == 6000)
            }
        }
    }

    @Test func aTransactionLargerThanTheMapGrowsItAndRunsAgain() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/env"
            let (env, db) = try Self.open(path)
            defer { env.close() }
            var runs = 0
            // ~30 MiB in one transaction: more than the 8 MiB map has, so it fails with MDB_MAP_FULL (at least
            // once), is aborted, and runs again in a grown map.
            try env.write { t throws in
                runs += 1
                for i in 0..<10_000 { _ = try t.put(db, Self.key(i), Self.value(i)) }
            }
            #expect(runs >= 2)
            #expect(try env.entryCount(db) == 10_000)
            let space = Self.fileSpace(path)
            #expect(space.allocated >= space.size, "\(space)")
            try env.read { t throws in #expect(try t.get(db, Self.key(9_999)) == Self.value(9_999)) }
        }
    }

    @Test func aDiskThatCannotGrowTheMapIsAnErrorAndKeepsWhatWasCommitted() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/env"
            defer { SystemFaults.reset(scope: dir) }
            let (env, db) = try Self.open(path)
            defer { env.close() }
            try env.write { t throws in for i in 0..<100 { _ = try t.put(db, Self.key(i), Self.value(i)) } }
            let before = Self.fileSpace(path)
            SystemFaults.inject("posix_fallocate", errno: ENOSPC, times: 1_000, pathContains: dir)
            // Small transactions still fit in the map as it is; one larger than what is left cannot.
            try env.write { t throws in _ = try t.put(db, Self.key(100), Self.value(100)) }
            #expect(throws: LMDBError(function: "posix_fallocate", code: ENOSPC, message: "injected: \(String(cString: strerror(ENOSPC)))",
                                      path: path)) {
                try env.write { t throws in for i in 1_000..<10_000 { _ = try t.put(db, Self.key(i), Self.value(i)) } }
            }
            #expect(Self.fileSpace(path).size == before.size)
            #expect(try env.entryCount(db) == 101)
            try env.read { t throws in #expect(try t.get(db, Self.key(100)) == Self.value(100)) }
            // Space again: the same transaction goes through.
            SystemFaults.reset(scope: dir)
            try env.write { t throws in for i in 1_000..<10_000 { _ = try t.put(db, Self.key(i), Self.value(i)) } }
            #expect(try env.entryCount(db) == 9_101)
            let after = Self.fileSpace(path)
            #expect(after.allocated >= after.size && after.size > before.size, "\(before) \(after)")
        }
    }

    @Test func readersKeepReadingWhileTheMapGrows() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/env"
            let (env, db) = try Self.open(path)
            defer { env.close() }
            try env.write { t throws in for i in 0..<100 { _ = try t.put(db, Self.key(i), Self.value(i)) } }
            let done = Atomic<Bool>(false)
            let reads = Atomic<Int>(0)
            let wrong = Atomic<Int>(0)
            let readers = (0..<2).map { r in
                Thread {
                    var i = r
                    while !done.load(ordering: .acquiring) {
                        let ok = (try? env.read { t in try t.get(db, Self.key(i % 100)) == Self.value(i % 100) }) ?? false
                        if !ok { wrong.add(1, ordering: .relaxed) }
                        reads.add(1, ordering: .relaxed)
                        i += 1
                    }
                }
            }
            readers.forEach { $0.start() }
            let first = Self.fileSpace(path).size
            for batch in 1..<50 {
                try env.write { t throws in
                    for i in batch * 100 ..< (batch + 1) * 100 { _ = try t.put(db, Self.key(i), Self.value(i)) }
                }
            }
            done.store(true, ordering: .releasing)
            let deadline = Date().addingTimeInterval(10)
            while readers.contains(where: { !$0.isFinished }), Date() < deadline { usleep(1_000) }
            #expect(readers.allSatisfy { $0.isFinished }, "reader threads still running 10 s after the writes")
            #expect(Self.fileSpace(path).size > first)
            #expect(reads.load(ordering: .relaxed) > 0)
            #expect(wrong.load(ordering: .relaxed) == 0)
        }
    }
}

@Suite("LMDB write map misuse")
struct LMDBWriteMapMisuseTests {
    /// Growing the map waits until no transaction of the process is open; one begun inside another's closure
    /// would wait for itself. It traps instead of hanging.
    @Test func aWriteThatMustGrowInsideAReadTraps() async {
        // Only the trap fails the child: an error (or finishing) exits 0.
        await #expect(processExitsWith: .signal(SIGILL)) {
            do {
                try withTemporaryDirectory { dir throws in
                    let (env, db) = try LMDBWriteMapTests.open(dir + "/env")
                    try env.read { _ throws in
                        try env.write { t throws in
                            for i in 0..<10_000 { _ = try t.put(db, Array("k\(i)".utf8), [UInt8](repeating: 1, count: 3000)) }
                        }
                    }
                }
            } catch {}
            exit(0)
        }
    }
}
