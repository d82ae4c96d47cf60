/// Why an offline store could not be opened or queried. Operating errors only: the CLI maps every one of
/// them to exit status 2.
public enum OfflineStoreError: Error, Equatable, CustomStringConvertible {
    /// The store root does not exist or is not a directory.
    case storeNotFound(path: String)
    /// The root exists but does not look like a store (no `commitlog` directory).
    case notAStore(path: String, reason: String)
    /// Another process (pid from the lock file, when readable) holds `<root>/lock`: a running broker.
    case storeLocked(lockPath: String, holderPid: Int32?)
    /// The lock file could not be created or locked for another reason (permissions, read-only mount).
    case lockFailed(lockPath: String, reason: String)
    /// A segment whose size differs from the first segment's (or is too small to be a segment).
    case segmentSizeMismatch(path: String, size: Int, expected: Int?)
    /// The command needs the LMDB index and the store has none.
    case noIndex(path: String)
    /// A message id that is not 32 hex digits.
    case invalidMessageId(String)
    /// An option value that cannot work (the message says which and why).
    case invalidOption(String)
    /// A failure of the underlying store (bad segment name, LMDB, I/O).
    case store(String)

    public var description: String {
        switch self {
        case let .storeNotFound(path): "no store at \(path): not a directory"
        case let .notAStore(path, reason): "\(path) is not a Tern store: \(reason)"
        case let .storeLocked(lockPath, pid):
            "store is in use: \(pid.map { "process \($0)" } ?? "another process") holds the lock \(lockPath) "
                + "(stop the broker first)"
        case let .lockFailed(lockPath, reason): "cannot lock \(lockPath): \(reason)"
        case let .segmentSizeMismatch(path, size, expected):
            "segment \(path) has \(size) bytes; "
                + (expected.map { "the first segment has \($0) (all segments must have the same size)" }
                    ?? "a segment has at least 4096")
        case let .noIndex(path): "the store has no index at \(path) (run rebuild-index to create it)"
        case let .invalidMessageId(id): "invalid message id \(id): expected 32 hex digits (offset message id)"
        case let .invalidOption(why): "invalid option: \(why)"
        case let .store(what): what
        }
    }

    static func wrap(_ error: any Error) -> OfflineStoreError {
        if let e = error as? OfflineStoreError { return e }
        return .store(String(describing: error))
    }
}
