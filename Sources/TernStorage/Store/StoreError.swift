import TernSystem

/// Everything the store reports to callers. Operating errors only: programmer errors trap.
public enum StoreError: Error, Equatable, CustomStringConvertible {
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
    /// A flush (msync / index fsync) failed: records after the last durable offset are not known to be stored,
    /// and the store refuses appends until a restart recovers the log (RocketMQ: SERVICE_NOT_AVAILABLE).
    case writeFailed(String)
    /// The disk is above `diskSpaceWarningLevelRatio` (or too full for the next segment): appends are refused
    /// until space comes back, with no restart (RocketMQ: SERVICE_NOT_AVAILABLE, "disk full").
    case diskFull(String)
    /// Underlying I/O or index failure.
    case io(String)
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
        case let .writeFailed(why): "store write path stopped after a failed flush (\(why)); restart the broker to recover"
        case let .diskFull(why): why
        case let .io(what): "I/O error: \(what)"
        case .notLeader: "store is a follower: it appends only records replicated from its leader"
        case .notFollower: "store is a leader: it does not take replicated records"
        case let .replicationOffsetMismatch(expected, received):
            "replicated bytes start at \(received) but the follower's log ends at \(expected)"
        case let .replicatedRecordInvalid(offset, reason): "replicated record at \(offset) is invalid: \(reason)"
        case let .truncationInvalid(offset, reason): "cannot truncate the log to \(offset): \(reason)"
        }
    }

    static func wrap(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        return .io(String(describing: error))
    }
}
