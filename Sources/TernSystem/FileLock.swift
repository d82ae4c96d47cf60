/// An exclusive advisory lock on a file (flock LOCK_EX|LOCK_NB) held for the lifetime of the value:
/// prevents two processes from opening one store. The lock dies with the process (also on kill -9).
/// The file's content is the holder's pid (informational).
/// API CONTRACT — implemented by TernSystem.
public final class FileLock: Sendable {
    public let path: String
    /// Throws `SystemError` with errno EWOULDBLOCK when another process holds the lock.
    public static func acquire(path: String) throws -> FileLock { fatalError("contract") }
    /// True when some process currently holds the lock (probe: try-lock and release immediately).
    public static func isHeld(path: String) -> Bool { fatalError("contract") }
    /// Releases explicitly (deinit releases too).
    public func release() { fatalError("contract") }
    init(path: String) { self.path = path }
}
