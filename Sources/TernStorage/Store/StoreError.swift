import TernSystem

/// Everything the store reports to callers. Operating errors only: programmer errors trap.
///
/// A failure underneath keeps its own typed error (`SystemError`: operation, path, errno, offset;
/// `LMDBError`: function, code) all the way up, so the broker's response remark names the C function, the file
/// and the errno (swift-nio's `FileSystemError` idea: one rich error per layer, the cause kept).
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Body larger than `maxMessageSize` (RocketMQ answers MESSAGE_ILLEGAL).
    case messageTooLarge(size: Int, limit: Int)
    /// Topic empty or longer than 127 bytes, or properties longer than 32767 bytes.
    case messageIllegal(String)
    /// Another process holds the store's lock file.
    case storeLocked(path: String)
    /// The store is closed (or closing).
    case closed
    /// A segment file with a bad name or size, or a gap between segments.
    case badSegment(path: String, reason: String)
    /// Sync flush did not complete in time; the record is stored (RocketMQ: FLUSH_DISK_TIMEOUT).
    case flushTimeout
    /// A record's queue offset does not follow its queue's last indexed offset (corrupt log or index).
    case queueGap(queue: QueueKey, found: Int64, expected: Int64, physicalOffset: Int64)
    /// A configuration that cannot work (e.g. segments smaller than the largest record).
    case invalidConfig(String)
    /// A record the log holds below its valid end does not validate (found by the dispatcher).
    case corruptRecord(physicalOffset: Int64, reason: String)
    /// A flush (msync / index fsync) failed: records after the last durable offset are not known to be stored,
    /// and the store refuses appends until a restart recovers the log (RocketMQ: SERVICE_NOT_AVAILABLE).
    /// The payload is the failure that fenced the write path.
    indirect case writeFailed(StoreError)
    /// The dispatcher stopped on `cause`: the indexes no longer follow the log, so appends are refused.
    indirect case indexingStopped(StoreError)
    /// A system call failed (file, map, directory): the operation, path, errno and offset.
    case io(SystemError)
    /// An LMDB call on the index failed (MDB_MAP_FULL, ENOSPC from a commit…).
    case index(LMDBError)
    /// An error of no known type (kept as text; no store path produces one today).
    case unexpected(String)

    public var description: String {
        switch self {
        case let .messageTooLarge(size, limit): "message body of \(size) bytes exceeds the limit of \(limit) bytes"
        case let .messageIllegal(why): "illegal message: \(why)"
        case let .storeLocked(path): "store is in use by another process (lock held on \(path))"
        case .closed: "store is closed"
        case let .badSegment(path, reason): "bad commit-log segment \(path): \(reason)"
        case .flushTimeout: "flush to disk timed out (the message is stored)"
        case let .queueGap(q, found, expected, phys):
            "record at \(phys) has queue offset \(found) in \(q), expected \(expected)"
        case let .invalidConfig(why): "invalid store configuration: \(why)"
        case let .corruptRecord(offset, reason): "invalid record at log offset \(offset): \(reason)"
        case let .writeFailed(cause):
            "store write path stopped after a failed flush (\(cause)); restart the broker to recover"
        case let .indexingStopped(cause): "indexing stopped: \(cause)"
        case let .io(error): "I/O error: \(error)"
        case let .index(error): "index error: \(error)"
        case let .unexpected(what): "unexpected error: \(what)"
        }
    }

    /// The system call failure at the root of this error, if there is one.
    public var systemError: SystemError? {
        switch self {
        case let .io(error): error
        case let .writeFailed(cause), let .indexingStopped(cause): cause.systemError
        default: nil
        }
    }

    static func wrap(_ error: any Error) -> StoreError {
        switch error {
        case let e as StoreError: e
        case let e as SystemError: .io(e)
        case let e as LMDBError: .index(e)
        default: .unexpected(String(describing: error))
        }
    }
}
