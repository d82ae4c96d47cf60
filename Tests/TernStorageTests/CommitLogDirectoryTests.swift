import Foundation
import Glibc
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// The commit log in a directory of its own (RocketMQ's `storePathCommitLog`): the segments live there, a store
/// reopens from there, two stores never share it, and a full file system under it refuses appends by name.
@Suite(.serialized) struct CommitLogDirectoryTests {
    static func config(_ root: TempDir, log: String) -> StoreConfig {
        var c = smallConfig(root)
        c.commitLogDirectory = log
        return c
    }

    @Test func segmentsLiveInTheLogDirectoryAndAStoreReopensFromIt() throws {
        let root = TempDir(), disk2 = TempDir()
        defer { root.cleanup(); disk2.cleanup() }
        let config = Self.config(root, log: disk2.path + "/commitlog")
        var acked: [AppendResult] = []
        do {
            let store = try MessageStore.open(config).start()
            defer { store.close() }
            for i in 0..<50 { acked.append(try store.append(draft(body: "m\(i)"))) }
            _ = try store.appendDurablyBlocking(draft(body: "last"))
        }
        #expect(!FileSystem.isDirectory(root.path + "/commitlog"))
        #expect(try FileSystem.listDirectory(disk2.path + "/commitlog").contains(Segment.fileName(base: 0)))
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let got = try store.getMessages(QueueKey(topic: "TopicTest", queueId: 0), from: 0, maxCount: 100).messages
        #expect(got.map(bodyString) == (0..<50).map { "m\($0)" } + ["last"])
        #expect(acked.allSatisfy { store.message(at: $0.physicalOffset) != nil })
    }

    @Test func twoStoresNeverShareOneLog() throws {
        let rootA = TempDir("A"), rootB = TempDir("B"), disk2 = TempDir()
        defer { rootA.cleanup(); rootB.cleanup(); disk2.cleanup() }
        let log = disk2.path + "/commitlog"
        let a = try MessageStore.open(Self.config(rootA, log: log))
        defer { a.close() }
        #expect(throws: StoreError.storeLocked(path: log + "/" + CommitLog.lockFileName)) {
            _ = try MessageStore.open(Self.config(rootB, log: log))
        }
        // The root's own lock is not left behind by the refused open.
        a.close()
        let b = try MessageStore.open(Self.config(rootB, log: log))
        b.close()
    }

    @Test func theRootsOwnLogNeedsNoSecondLock() throws {
        let root = TempDir(); defer { root.cleanup() }
        let config = Self.config(root, log: root.path + "/commitlog")
        #expect(config.commitLogLockPath == nil)
        let store = try MessageStore.open(config)
        store.close()
        #expect(try FileSystem.listDirectory(root.path + "/commitlog").allSatisfy { $0 != CommitLog.lockFileName })
    }

    /// The log on a 6 MiB tmpfs, the root on the test machine's disk: the log's file system decides, and the
    /// refusal names it. Watching the root alone, appends went on until the segment allocation failed.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root; skipped"))
    func aFullLogFileSystemRefusesAppendsAndNamesIt() throws {
        let root = TempDir(), disk2 = TempDir()
        defer { root.cleanup(); disk2.cleanup() }
        guard mount("tmpfs", disk2.path, "tmpfs", 0, "size=6m") == 0 else {
            Issue.record("mount tmpfs: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(disk2.path, Int32(MNT_DETACH)) }
        var config = Self.config(root, log: disk2.path + "/commitlog")
        config.diskSpace.reserveBytes = 1 << 20
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let body = String(repeating: "d", count: 4_000)
        var acked: [AppendResult] = []
        var refusal: StoreError?
        while refusal == nil && acked.count < 10_000 {
            do { acked.append(try store.append(draft(body: body))) } catch { refusal = error }
        }
        guard case let .diskFull(why)? = refusal else {
            Issue.record("expected a disk-full refusal, got \(String(describing: refusal)) after \(acked.count) appends")
            return
        }
        #expect(why.contains(disk2.path + "/commitlog"))
        #expect(acked.count > 100)
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        #expect(acked.allSatisfy { store.message(at: $0.physicalOffset) != nil })
    }
}
