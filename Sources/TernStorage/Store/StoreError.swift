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
    /// The disk is above `diskSpaceWarningLevelRatio` (or too full for the next segment): appends are refused
    /// until space comes back, with no restart (RocketMQ: SERVICE_NOT_AVAILABLE, "disk full").
    case diskFull(String)
    /// A leader append on a follower store (a slave takes records only from its leader's stream).
    case notLeader
    /// Replicated bytes offered to a leader store.
    case notFollower
    /// Replicated bytes that do not start at the follower's end (`expected`, partial record included).
    case replicationOffsetMismatch(expected: Int64, received: Int64)
    /// A replicated record failed validation at `offset`; nothing from it on was published.
    case replicatedRecordInvalid(offset: Int64, reason: String)
    /// A truncation target that is not a record boundary inside the log.
    case truncationInvalid(offset: Int64, reason: String)

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
        case let .diskFull(why): why
        case .notLeader: "store is a follower: it appends only records replicated from its leader"
        case .notFollower: "store is a leader: it does not take replicated records"
        case let .replicationOffsetMismatch(expected, received):
            "replicated bytes start at \(received) but the follower's log ends at \(expected)"
        case let .replicatedRecordInvalid(offset, reason): "replicated record at \(offset) is invalid: \(reason)"
        case let .truncationInvalid(offset, reason): "cannot truncate the log to \(offset): \(reason)"
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
        case let e as ReplayBatchError: wrap(e.underlying)  // keeps the cause typed (ENOSPC from a commit…)
        default: .unexpected(String(describing: error))
        }
    }
}
