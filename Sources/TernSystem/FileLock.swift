import Glibc
import Synchronization

/// An exclusive advisory lock on a file (flock LOCK_EX|LOCK_NB) held for the lifetime of the value:
/// prevents two processes from opening one store. The lock dies with the process (also on kill -9).
/// The file's content is the holder's pid (informational).
///
/// Invariants:
/// - flock locks belong to the open file description, so a second `acquire` of the same path in the same
///   process opens a new description and fails with EWOULDBLOCK too.
/// - The lock file is never unlinked: unlinking would let a later `acquire` lock a new inode while an
///   old holder still locks the unlinked one.
/// API CONTRACT — implemented by TernSystem.
public final class FileLock: Sendable {
    public let path: String
    /// The locked descriptor, -1 once released.
    private let descriptor: Mutex<Int32>

    /// Throws `SystemError` with errno EWOULDBLOCK when another process holds the lock.
    public static func acquire(path: String) throws -> FileLock {
        let fd = try Sys.open(path, O_RDWR | O_CREAT)
        do {
            try Sys.lock(fd, LOCK_EX | LOCK_NB, path)
            let pid = Array("\(getpid())\n".utf8)
            try Sys.ftruncate(fd, 0, path)
            try pid.withUnsafeBytes { try Sys.writeAll(fd, $0, path) }
        } catch {
            Sys.close(fd, path)
            throw error
        }
        return FileLock(path: path, fd: fd)
    }

    /// True when some process currently holds the lock (probe: try-lock and release immediately).
    /// False when the file does not exist or cannot be opened.
    public static func isHeld(path: String) -> Bool {
        // flock does not need write access, so a read-only open is enough to probe.
        guard let fd = try? Sys.open(path, O_RDONLY) else { return false }
        defer { Sys.close(fd, path) }
        do {
            try Sys.lock(fd, LOCK_EX | LOCK_NB, path)
        } catch let error as SystemError where error.errno == EWOULDBLOCK {
            return true
        } catch {
            return false
        }
        try? Sys.lock(fd, LOCK_UN, path)
        return false
    }

    /// Releases explicitly (deinit releases too). Idempotent.
    public func release() {
        let fd = descriptor.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        guard fd >= 0 else { return }
        // Unlock explicitly: a forked child that has not exec'd yet may share the open file description.
        try? Sys.lock(fd, LOCK_UN, path)
        Sys.close(fd, path)
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.descriptor = Mutex(fd)
    }

    deinit { release() }
}
