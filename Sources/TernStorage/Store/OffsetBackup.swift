import Foundation
import Logging
import Synchronization
import TernSystem

/// Consumer offsets are the one piece of primary state inside the index (everything else there is derived from
/// the log). A copy lives beside it, in RocketMQ's file `<store>/config/consumerOffset.json`
/// (`{"offsetTable": {"<topic>@<group>": {"<queueId>": offset}}}`), written atomically by housekeeping at most every
/// `flushConsumerOffsetInterval` (5 s) when the offsets changed. Losing or corrupting the index then costs at
/// most the offsets of the last interval: the index is rebuilt from the log and the offsets are restored.
struct OffsetBackup {
    let path: String

    init(root: String) { path = root + "/config/consumerOffset.json" }

    private struct File: Codable {
        var offsetTable: [String: [String: Int64]]
    }

    func write(_ offsets: [ConsumerOffsetKey: Int64]) throws {
        var table: [String: [String: Int64]] = [:]
        for (k, v) in offsets { table["\(k.queue.topic)@\(k.group)", default: [:]]["\(k.queue.queueId)"] = v }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let dir = String(path[..<path.lastIndex(of: "/")!])
        try FileSystem.createDirectory(dir)
        try FileSystem.writeAtomically(path, Array(try encoder.encode(File(offsetTable: table))))
    }

    /// Moves a corrupt index directory to `<index>.corrupt-<ms>` (kept for inspection); returns where it went.
    static func moveCorruptIndexAside(_ indexPath: String) throws -> String {
        let aside = indexPath + ".corrupt-\(Clock.wallMillis())"
        try FileSystem.rename(indexPath, to: aside)
        return aside
    }

    /// Commits into `index` every saved offset it lacks (offsets the index has win); returns how many were
    /// restored and how many the file held.
    func restore(into index: any IndexStore) throws -> (restored: Int, saved: Int) {
        let saved = try read()
        var restored = 0
        for (key, offset) in saved where try index.consumerOffset(group: key.group, queue: key.queue) == nil {
            try index.commitConsumerOffset(group: key.group, queue: key.queue, offset: offset)
            restored += 1
        }
        return (restored, saved.count)
    }

    /// The saved offsets; empty when there is no file. Keys split at the last `@` (group names cannot hold one).
    func read() throws -> [ConsumerOffsetKey: Int64] {
        guard FileSystem.fileExists(path) else { return [:] }
        let file = try JSONDecoder().decode(File.self, from: Data(try FileSystem.readFile(path)))
        var out: [ConsumerOffsetKey: Int64] = [:]
        for (key, queues) in file.offsetTable {
            guard let at = key.lastIndex(of: "@") else { continue }
            let topic = String(key[..<at]), group = String(key[key.index(after: at)...])
            for (q, v) in queues {
                guard let id = Int32(q) else { continue }
                out[ConsumerOffsetKey(group: group, queue: QueueKey(topic: topic, queueId: id))] = v
            }
        }
        return out
    }
}

extension MessageStore {
    /// LMDB's "this file is not a valid environment / a page is broken" codes: the index cannot be trusted, and
    /// since it is derived it is moved aside and rebuilt instead of refusing to start.
    static func isIndexCorruption(_ error: any Error) -> Bool {
        guard let e = error as? LMDBError else { return false }
        // MDB_INVALID, MDB_VERSION_MISMATCH, MDB_CORRUPTED, MDB_PAGE_NOTFOUND: file damage, not a usage error.
        return [-30793, -30794, -30796, -30797].contains(e.code)
    }

    /// Opens the index and recovers it against the log. A missing index is built from the log; a corrupt one is
    /// moved to `index.corrupt-<ms>` (kept for inspection, logged) and rebuilt. Either way the consumer offsets
    /// are restored from the backup (offsets the index already has win).
    static func openIndex(_ config: StoreConfig, log: CommitLog, logger: Logger) throws
        -> (index: any IndexStore, report: RecoveryReport, checkpoint: DispatchCheckpoint)
    {
        func open() throws -> (any IndexStore, RecoveryReport, DispatchCheckpoint) {
            let index: any IndexStore = switch config.indexBackend {
            case .lmdb: try LMDBIndexStore(path: config.indexPath, mapSize: config.lmdbMapSize)
            case .inMemory: InMemoryIndexStore()
            }
            do {
                let (report, checkpoint) = try Recovery.run(log: log, index: index, batchLimit: config.dispatchBatchLimit,
                                                           derivation: config.derivation, logger: logger)
                return (index, report, checkpoint)
            } catch {
                index.close()
                throw error
            }
        }
        var fresh = config.indexBackend == .lmdb && !FileSystem.fileExists(config.indexPath + "/data.mdb")
        let opened: (any IndexStore, RecoveryReport, DispatchCheckpoint)
        do {
            opened = try open()
        } catch where config.indexBackend == .lmdb && isIndexCorruption(error) {
            let aside = try OffsetBackup.moveCorruptIndexAside(config.indexPath)
            logger.error("index is corrupt: moved aside and rebuilt from the commit log",
                         metadata: ["error": "\(error)", "movedTo": "\(aside)"])
            fresh = true
            opened = try open()
        }
        if let lmdb = opened.0 as? LMDBIndexStore, lmdb.droppedOlderLayout {
            logger.notice("index: consume queues of an older layout dropped and rebuilt from the commit log",
                          metadata: ["replayedRecords": "\(opened.1.replayedRecords)"])
        }
        if fresh {
            let backup = OffsetBackup(root: config.root)
            let (restored, saved) = try backup.restore(into: opened.0)
            if saved > 0 {
                try opened.0.sync()
                logger.notice("index built from the commit log; consumer offsets restored", metadata: [
                    "restored": "\(restored)", "from": "\(backup.path)"])
            }
        }
        return opened
    }

    /// Writes the offset backup when the offsets changed since `last`; returns what was written (or `last`).
    func backUpOffsets(last: [ConsumerOffsetKey: Int64]?) -> [ConsumerOffsetKey: Int64]? {
        guard config.indexBackend == .lmdb else { return last }
        return offsetBackupWrites.withLock { _ -> [ConsumerOffsetKey: Int64]? in
            guard let now = try? index.consumerOffsets(), now != last else { return last }
            do {
                try OffsetBackup(root: config.root).write(now)
                return now
            } catch {
                logger.warning("consumer offset backup failed", metadata: ["error": "\(error)"])
                return last
            }
        }
    }

    /// Writes the offset backup now (after offsets were removed: an index rebuilt from the log must not get
    /// them back from a stale backup).
    func rewriteOffsetBackup() throws {
        guard config.indexBackend == .lmdb else { return }
        try offsetBackupWrites.withLock { _ in try OffsetBackup(root: config.root).write(try index.consumerOffsets()) }
    }
}

/// Serializes "read the offsets, write the backup" between housekeeping and a removal, so the file written last
/// holds the offsets read last.
private let offsetBackupWrites = Mutex(())
