import Foundation
import Glibc
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// The LMDB index on a full file system fails with an error, never SIGBUS: the index directory is a small tmpfs
/// (the commit log stays on the normal disk), a child process appends until the dispatcher cannot commit, and
/// must exit normally having seen `indexingStopped` caused by ENOSPC (or EIO), with every appended record still readable.
/// The index uses MDB_WRITEMAP: with a map over holes (no blocks reserved ahead) the child dies of SIGBUS inside
/// liblmdb instead.
@Suite("Index on a full disk", .serialized)
struct IndexDiskFullTests {
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root; skipped"))
    func fullIndexFileSystemIsAnErrorNotSIGBUS() async throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let indexPath = StoreConfig(root: dir.path).indexPath
        try FileSystem.createDirectory(indexPath)
        guard mount("tmpfs", indexPath, "tmpfs", 0, "size=2m") == 0 else {
            Issue.record("mount tmpfs on \(indexPath): \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(indexPath, Int32(MNT_DETACH)) }
        let root = dir.path
        await #expect(processExitsWith: .success) { [root = root as String] in
            try IndexDiskFullTests.fillIndexUntilItFails(root: root)
        }
        if let why = try? FileSystem.readFile(root + "/child-failure") {
            Issue.record("child: \(String(decoding: why, as: UTF8.self))")
        }
    }

    /// Runs in the child: appends records with long keys until an append reports the stopped dispatcher.
    static func fillIndexUntilItFails(root: String) throws {
        var config = StoreConfig(root: root)
        config.segmentSize = 8 << 20
        config.prefaultSegments = false
        config.lmdbMapSize = 1 << 30
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let keys = (0..<16).map { "\($0)-" + String(repeating: "k", count: 200) }
        var appended: [AppendResult] = []
        var stopped: StoreError?
        for i in 0..<200_000 where stopped == nil {
            do {
                appended.append(try store.append(draft(body: "m\(i)", keys: keys.map { "\(i)-\($0)" })))
            } catch {
                stopped = error
            }
            if i % 64 == 0 { _ = store.waitUntilDispatched(store.maxPhysicalOffset, timeoutMillis: 1_000) }
        }
        // LMDB reports a failed pwrite as its errno, and a short one (the disk filled mid-write) as EIO.
        guard case let .indexingStopped(cause) = stopped, case let .index(lmdb) = cause, [ENOSPC, EIO].contains(lmdb.code),
              lmdb.path == config.indexPath
        else {
            try FileSystem.writeAtomically(root + "/child-failure",
                                           Array("expected indexingStopped(ENOSPC or EIO), got \(String(describing: stopped))".utf8))
            exit(3)
        }
        for (i, r) in appended.enumerated() where store.message(at: r.physicalOffset).map(bodyString) != "m\(i)" {
            try FileSystem.writeAtomically(root + "/child-failure", Array("record \(i) unreadable after the index filled".utf8))
            exit(4)
        }
    }
}
