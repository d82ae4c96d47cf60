import TernMessage
import TernSystem

/// Read-only access to a store that no process holds: the engine of `tern-inspect` (modelled on LMDB's
/// `mdb_stat` and Kafka's `DumpLogSegments`).
///
/// Lifecycle: `open` takes the store's own lock (`<root>/lock`, the one `MessageStore.open` takes) and holds
/// it until `close()` or deinit, so a broker cannot start on the store while the tool reads it; a store that a
/// broker holds is refused. The commit log is mapped PROT_READ. The LMDB index (`<root>/index`) is opened
/// read-only, or writable for `rebuildIndex` only; a store without one (in-memory backend) has `index == nil`.
///
/// Invariants:
/// - Every segment has the same size, inferred from the first segment file (there is no config to read).
/// - Nothing here writes to the commit log. Only `rebuildIndex` writes to the index, and it keeps consumer
///   offsets (primary state).
/// - Scans validate records with recovery's `RecordScanner` (CRC included), so the "valid end" reported is
///   where recovery's replay and `rebuildIndex` stop.
///
/// Thread-safety: none; one thread (a CLI run) uses a value. Cost: `open` is O(segments); stats, dump and
/// verify walk the log.
public final class OfflineStore {
    public struct Options: Sendable {
        public enum IndexAccess: Sendable { case readOnly, readWrite }
        /// `.readWrite` creates the index when missing (rebuild-index).
        public var indexAccess: IndexAccess = .readOnly
        /// Largest TOTALSIZE accepted while scanning. nil: segment size - 8, the most any record can take
        /// (the writer keeps 8 bytes for a blank at the end of each segment), so no valid record is rejected.
        public var maxRecordSize: Int?
        public var lmdbMapSize: Int = LMDBIndexStore.defaultMapSize
        /// The commit log's directory when the broker keeps it outside the root (`storePathCommitLog`).
        public var commitLogDirectory: String?
        public init() {}
    }

    public let root: String
    /// Size of every segment; nil when the log has no segment yet.
    public let segmentSize: Int?
    public let maxRecordSize: Int
    /// The derived indexes, nil when the store has none on disk.
    public let index: (any IndexStore)?
    /// True when the index was opened writable (`Options.indexAccess == .readWrite`).
    public let indexIsWritable: Bool
    /// Where a corrupt index found by a writable open was moved before a fresh one was made (nil: none).
    public let corruptIndexMovedTo: String?
    let log: CommitLog
    let layout: StoreConfig
    private let lock: FileLock
    /// The commit-log directory's own lock when the log lies outside the root.
    private let logLock: FileLock?

    /// Opens the store at `root`. Throws `OfflineStoreError` for a missing directory, a store without a
    /// commit log, a store another process holds (naming the lock file), or segments of different sizes.
    public static func open(root: String, options: Options = Options()) throws -> OfflineStore {
        var layout = StoreConfig(root: root)
        layout.commitLogDirectory = options.commitLogDirectory
        guard FileSystem.isDirectory(root) else { throw OfflineStoreError.storeNotFound(path: root) }
        guard FileSystem.isDirectory(layout.commitLogPath) else {
            throw OfflineStoreError.notAStore(path: root, reason: "no commitlog directory (\(layout.commitLogPath))")
        }
        let lock = try acquireLock(layout.lockPath)
        // A log outside the root has its own lock (MessageStore.open takes both).
        var logLock: FileLock? = nil
        do {
            if let path = layout.commitLogLockPath { logLock = try acquireLock(path) }
            return try OfflineStore(layout: layout, options: options, lock: lock, logLock: logLock)
        } catch {
            logLock?.release()
            lock.release()
            throw OfflineStoreError.wrap(error)
        }
    }

    private init(layout: StoreConfig, options: Options, lock: FileLock, logLock: FileLock?) throws {
        self.root = layout.root
        self.layout = layout
        self.lock = lock
        self.logLock = logLock
        segmentSize = try Self.inferSegmentSize(layout.commitLogPath)
        // An empty log still needs a valid geometry for CommitLog; any legal size will do.
        let geometry = segmentSize ?? layout.segmentSize
        maxRecordSize = options.maxRecordSize ?? (geometry - 8)
        guard maxRecordSize >= RecordLayout.fixedSize, maxRecordSize + 8 <= geometry else {
            throw OfflineStoreError.invalidOption("max record size \(maxRecordSize) must be in "
                + "\(RecordLayout.fixedSize)...\(geometry - 8) for segments of \(geometry) bytes")
        }
        log = try CommitLog(directory: layout.commitLogPath, segmentSize: geometry, maxRecordSize: maxRecordSize,
                            prefault: false, readOnly: true)
        indexIsWritable = options.indexAccess == .readWrite
        var moved: String? = nil
        switch options.indexAccess {
        case .readOnly where FileSystem.isDirectory(layout.indexPath):
            index = try LMDBIndexStore(path: layout.indexPath, mapSize: options.lmdbMapSize, readOnly: true)
        case .readOnly:
            index = nil
        case .readWrite:
            do {
                index = try LMDBIndexStore(path: layout.indexPath, mapSize: options.lmdbMapSize)
            } catch where MessageStore.isIndexCorruption(error) {
                // The index is derived: a corrupt one is set aside (kept for inspection) and rebuilt, with the
                // consumer offsets restored from their backup, as the broker does at start.
                moved = try OffsetBackup.moveCorruptIndexAside(layout.indexPath)
                let fresh = try LMDBIndexStore(path: layout.indexPath, mapSize: options.lmdbMapSize)
                _ = try OffsetBackup(root: layout.root).restore(into: fresh)
                index = fresh
            }
        }
        corruptIndexMovedTo = moved
    }

    /// Closes the index and releases the locks. Idempotent.
    public func close() {
        index?.close()
        logLock?.release()
        lock.release()
    }

    deinit {
        logLock?.release()
        lock.release()
    }

    /// The index, or `.noIndex` naming where it was looked for.
    func requireIndex() throws -> any IndexStore {
        guard let index else { throw OfflineStoreError.noIndex(path: layout.indexPath) }
        return index
    }

    // MARK: Opening helpers

    /// Takes the broker's lock. A failure while the lock is held means a live process holds it (flock dies
    /// with its holder); any other failure (permissions, read-only file system) is reported as such.
    private static func acquireLock(_ path: String) throws -> FileLock {
        do {
            return try FileLock.acquire(path: path)
        } catch {
            guard FileLock.isHeld(path: path) else {
                throw OfflineStoreError.lockFailed(lockPath: path, reason: "\(error)")
            }
            // The holder writes its pid into the file (informational).
            let text = (try? FileSystem.readFile(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw OfflineStoreError.storeLocked(lockPath: path, holderPid: Int32(text.filter(\.isNumber)))
        }
    }

    /// The size of the first segment file, after checking that every segment file has it.
    private static func inferSegmentSize(_ directory: String) throws -> Int? {
        var expected: Int? = nil
        let names = try FileSystem.listDirectory(directory).filter { Segment.base(fromFileName: $0) != nil }
        for name in names {
            let path = directory + "/" + name
            let size = try FileSystem.fileSize(path)
            // A short last file is an interrupted preparation: CommitLog ignores or maps it (SegmentRepair).
            if name == names.last, expected.map({ size < $0 }) ?? (size == 0) { continue }
            guard let want = expected else {
                guard size >= 4096 else {
                    throw OfflineStoreError.segmentSizeMismatch(path: path, size: size, expected: nil)
                }
                expected = size
                continue
            }
            guard size == want else {
                throw OfflineStoreError.segmentSizeMismatch(path: path, size: size, expected: want)
            }
        }
        return expected
    }
}
