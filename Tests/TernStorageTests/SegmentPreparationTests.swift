import Foundation
import Glibc
import Logging
import Synchronization
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// A segment that cannot be prepared (ENOSPC from posix_fallocate, from the ftruncate fallback, ENOMEM from mmap)
/// leaves no file behind and fails the append with the system error, without writing anything; once the fault
/// clears, appends continue in the next segment. Startup repairs what older versions (or a crash) left: a trailing
/// 0-byte or zero-filled short segment is removed, a short one holding records is extended, both logged.
/// Faults are scoped to each test's directory (`SystemFaults`), and the suite runs serialized.
@Suite("Segment preparation and trailing-segment repair", .serialized)
struct SegmentPreparationTests {
    static let segmentSize = 1 << 20
    static let body = String(repeating: "b", count: 10_000)

    /// (operations to fail with their errno, the failure the append must report).
    static let faults: [(armed: [(String, Int32)], expected: (String, Int32))] = [
        ([("posix_fallocate", ENOSPC)], ("posix_fallocate", ENOSPC)),
        ([("posix_fallocate", EOPNOTSUPP), ("ftruncate", ENOSPC)], ("ftruncate", ENOSPC)),
        ([("mmap", ENOMEM)], ("mmap", ENOMEM)),
    ]

    @Test(arguments: 0..<faults.count)
    func failedPreparationLeavesNoFileAndFailsTheAppendUntilTheFaultClears(_ scenario: Int) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let logDir = dir.path + "/commitlog"
        defer { SystemFaults.reset(scope: logDir) }
        var store = try MessageStore.open(smallConfig(dir, segmentSize: Self.segmentSize)).start()
        let (armed, expected) = Self.faults[scenario]
        // Once each: the writer or the housekeeping thread consumes them; the failure is then remembered.
        for (operation, code) in armed { SystemFaults.inject(operation, errno: code, pathContains: logDir) }

        var acknowledged: [AppendResult] = []
        var failure: StoreError?
        for _ in 0..<2 * Self.segmentSize / Self.body.count {
            do { acknowledged.append(try store.append(draft(body: Self.body))) } catch { failure = error; break }
        }
        let error = try #require(failure, "no append failed although the next segment could not be prepared")
        let cause = try #require(error.systemError, "not a system error: \(error)")
        #expect(cause.operation == expected.0 && cause.errno == expected.1)
        #expect(cause.path?.hasPrefix(logDir + "/" + Segment.fileName(base: Int64(Self.segmentSize))) == true)
        #expect(error.description.contains(cause.errnoName))

        // Nothing was written for the failed append, and it fails again at once: the writer does not retry the
        // allocation itself (every fault is consumed; only the remembered failure can make it throw).
        let end = store.maxPhysicalOffset
        #expect(end == acknowledged.last?.endOffset)
        #expect(throws: error) { _ = try store.append(draft(body: Self.body)) }
        #expect(store.maxPhysicalOffset == end)
        #expect(try FileSystem.listDirectory(logDir) == [Segment.fileName(base: 0)])

        // The housekeeping thread retries (at most once a second) and succeeds: appends continue.
        let deadline = Date().addingTimeInterval(10)
        var next: AppendResult?
        while next == nil && Date() < deadline {
            next = try? store.append(draft(body: "after" + Self.body))
            if next == nil { Thread.sleep(forTimeInterval: 0.01) }
        }
        let after = try #require(next, "appends did not resume after the fault cleared")
        #expect(after.physicalOffset == Int64(Self.segmentSize))
        #expect(try FileSystem.listDirectory(logDir) == [0, Self.segmentSize].map { Segment.fileName(base: Int64($0)) })

        store.close()
        store = try MessageStore.open(smallConfig(dir, segmentSize: Self.segmentSize)).start()
        defer { store.close() }
        for r in acknowledged { #expect(store.message(at: r.physicalOffset).map(bodyString) == Self.body) }
        #expect(store.message(at: after.physicalOffset).map(bodyString) == "after" + Self.body)
    }

    /// The retry interval runs on the store's clock: after a failed preparation (fault consumed, a retry would
    /// succeed) no retry happens while a manual clock stands still, and the first one after it moved a second
    /// succeeds. Retries are driven here directly; the housekeeping thread sees the same clock.
    @Test func preparationRetryWaitsForTheStoreClock() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let logDir = dir.path + "/commitlog"
        defer { SystemFaults.reset(scope: logDir) }
        let clock = ManualClock()
        var config = smallConfig(dir, segmentSize: Self.segmentSize)
        config.clock = clock
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        SystemFaults.inject("posix_fallocate", errno: ENOSPC, pathContains: logDir)
        var failed = false
        for _ in 0..<2 * Self.segmentSize / Self.body.count where !failed {
            do { _ = try store.append(draft(body: Self.body)) } catch { failed = true }
        }
        #expect(failed, "no append failed although the next segment could not be prepared")

        try store.log.prepareNextSegment()
        #expect(throws: StoreError.self, "retried before the store's clock moved") { _ = try store.append(draft(body: Self.body)) }
        clock.advance(millis: 999)
        try store.log.prepareNextSegment()
        #expect(throws: StoreError.self, "retried before the interval passed") { _ = try store.append(draft(body: Self.body)) }
        clock.advance(millis: 1)
        try store.log.prepareNextSegment()
        let after = try store.append(draft(body: Self.body))
        #expect(after.physicalOffset == Int64(Self.segmentSize))
    }

    /// The same on a real full file system: the commit log on a 2.5 MiB tmpfs (room for two 1 MiB segments).
    /// The third segment's posix_fallocate fails with ENOSPC, no file is left, appends fail at once; after the
    /// tmpfs grows (remount), appends resume without a restart and every acknowledged record is readable.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root; skipped"))
    func fullFileSystemDuringPreparationLeavesNoFileAndRecoversWhenSpaceReturns() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let config = smallConfig(dir, segmentSize: Self.segmentSize)
        try FileSystem.createDirectory(config.commitLogPath)
        guard mount("tmpfs", config.commitLogPath, "tmpfs", 0, "size=2560k") == 0 else {
            Issue.record("mount tmpfs: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(config.commitLogPath, Int32(MNT_DETACH)) }
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        var acknowledged: [AppendResult] = []
        var failure: StoreError?
        while failure == nil && acknowledged.count < 4 * Self.segmentSize / Self.body.count {
            do { acknowledged.append(try store.append(draft(body: Self.body))) } catch { failure = error }
        }
        let cause = try #require(failure?.systemError, "no system error: \(String(describing: failure))")
        #expect(cause.operation == "posix_fallocate" && cause.errno == ENOSPC)
        #expect(acknowledged.last.map { $0.endOffset > Int64(Self.segmentSize) } == true)
        #expect(throws: failure!) { _ = try store.append(draft(body: Self.body)) }
        #expect(try FileSystem.listDirectory(config.commitLogPath) == [0, 1].map { Segment.fileName(base: Int64($0 * Self.segmentSize)) })

        #expect(mount("tmpfs", config.commitLogPath, "tmpfs", UInt(MS_REMOUNT), "size=8m") == 0)
        let deadline = Date().addingTimeInterval(10)
        var next: AppendResult?
        while next == nil && Date() < deadline {
            next = try? store.append(draft(body: Self.body))
            if next == nil { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(next?.physicalOffset == Int64(2 * Self.segmentSize))
        for r in acknowledged { #expect(store.message(at: r.physicalOffset).map(bodyString) == Self.body) }
    }

    @Test func trailingZeroByteSegmentIsRemovedAndLogged() throws {
        try repair(trailing: { path in
            try FileSystem.writeAtomically(path, [])
        }, expectedLog: "removed an empty trailing segment file")
    }

    @Test func trailingShortZeroFilledSegmentIsRemovedAndLogged() throws {
        try repair(trailing: { path in
            try FileSystem.writeAtomically(path, [UInt8](repeating: 0, count: 12_288))
        }, expectedLog: "removed an empty trailing segment file")
    }

    /// Writes records, closes, then leaves a trailing segment file made by `damage`, reopens (store and offline
    /// tool): the file is gone, a warning names it, every record is readable and appends continue.
    private func repair(trailing damage: (String) throws -> Void, expectedLog: String) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let config = smallConfig(dir, segmentSize: Self.segmentSize)
        var store = try MessageStore.open(config).start()
        let written = try (0..<5).map { try store.append(draft(body: "m\($0)")) }
        store.close()
        let trailing = config.commitLogPath + "/" + Segment.fileName(base: Int64(Self.segmentSize))
        try damage(trailing)

        let tool = try OfflineStore.open(root: dir.path)
        #expect(tool.segmentSize == Self.segmentSize)
        tool.close()
        #expect(FileSystem.fileExists(trailing), "the read-only tool removed a file")

        let logs = RecordingLogHandler.Records()
        store = try MessageStore.open(config, logger: Logger(label: "test") { _ in RecordingLogHandler(records: logs) }).start()
        defer { store.close() }
        #expect(!FileSystem.fileExists(trailing))
        #expect(logs.contains(level: .warning, message: expectedLog, path: trailing))
        for (i, r) in written.enumerated() { #expect(store.message(at: r.physicalOffset).map(bodyString) == "m\(i)") }
        let next = try store.append(draft(body: "next"))
        #expect(next.physicalOffset == written.last!.endOffset)
    }

    @Test func trailingShortSegmentHoldingRecordsIsExtendedKeepingItsData() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let config = smallConfig(dir, segmentSize: Self.segmentSize)
        var store = try MessageStore.open(config).start()
        var written: [AppendResult] = []
        while written.last.map({ $0.physicalOffset < Int64(Self.segmentSize) + 5 * 10_000 }) ?? true {
            written.append(try store.append(draft(body: Self.body)))
        }
        store.close()
        let path = config.commitLogPath + "/" + Segment.fileName(base: Int64(Self.segmentSize))
        let head = Array(try FileSystem.readFile(path).prefix(65_536))
        try FileSystem.writeAtomically(path, head)

        let tool = try OfflineStore.open(root: dir.path)
        #expect(try FileSystem.fileSize(path) == head.count, "the read-only tool changed the file")
        tool.close()

        let logs = RecordingLogHandler.Records()
        store = try MessageStore.open(config, logger: Logger(label: "test") { _ in RecordingLogHandler(records: logs) }).start()
        defer { store.close() }
        #expect(try FileSystem.fileSize(path) == Self.segmentSize)
        #expect(logs.contains(level: .warning, message: "extended a short trailing segment", path: path))
        for r in written { #expect(store.message(at: r.physicalOffset).map(bodyString) == Self.body) }
        #expect(try store.append(draft(body: "next")).physicalOffset == written.last!.endOffset)
    }

    /// A lone short segment with records looks like a store written with a smaller segment size: refused, kept.
    @Test func loneShortSegmentWithRecordsIsRefusedNotExtended() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        try MessageStore.open(smallConfig(dir, segmentSize: Self.segmentSize)).start().append(draft(body: "m"))
        let bigger = smallConfig(dir, segmentSize: 2 * Self.segmentSize)
        #expect(throws: StoreError.self) { try MessageStore.open(bigger).close() }
        #expect(try FileSystem.fileSize(bigger.commitLogPath + "/" + Segment.fileName(base: 0)) == Self.segmentSize)
    }

    @Test func shortTrailingSegmentWithGarbageIsRefusedNotDeleted() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let config = smallConfig(dir, segmentSize: Self.segmentSize)
        try MessageStore.open(config).close()
        let path = config.commitLogPath + "/" + Segment.fileName(base: Int64(Self.segmentSize))
        try FileSystem.writeAtomically(path, [UInt8](repeating: 0xAB, count: 4096))
        #expect(throws: StoreError.self) { try MessageStore.open(config).close() }
        #expect(try FileSystem.fileSize(path) == 4096)
    }
}

/// Keeps every log record in memory (tests assert what was logged).
struct RecordingLogHandler: LogHandler {
    final class Records: Sendable {
        struct Entry: Sendable { var level: Logger.Level; var message: String; var metadata: [String: String] }
        let entries = Mutex<[Entry]>([])
        func contains(level: Logger.Level, message: String, path: String) -> Bool {
            entries.withLock { list in
                list.contains { $0.level == level && $0.message.contains(message) && $0.metadata["segment.path"] == path }
            }
        }
    }

    let records: Records
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let merged = self.metadata.merging(metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        records.entries.withLock { $0.append(.init(level: level, message: message.description, metadata: merged)) }
    }
}
