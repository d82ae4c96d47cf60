import Glibc
import Synchronization

/// Small file-system helpers (each one syscall or a loop of them); errors throw `SystemError`.
/// API CONTRACT — implemented by TernSystem.
public enum FileSystem {
    /// mkdir -p
    public static func createDirectory(_ path: String) throws {
        precondition(!path.isEmpty, "createDirectory of an empty path")
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            do {
                try Sys.mkdir(prefix)
            } catch let error as SystemError where error.errno == EEXIST {
                // Something is there already: fine when it is a directory (or a link to one).
                guard isDirectory(prefix) else { throw Sys.error("mkdir", prefix, ENOTDIR) }
            }
            prefix += "/"
        }
    }

    /// Names (not paths) of the entries of a directory, sorted; [] when the directory does not exist.
    public static func listDirectory(_ path: String) throws -> [String] {
        do {
            return try Sys.readDirectory(path).sorted()
        } catch let error as SystemError where error.errno == ENOENT {
            return []
        }
    }

    public static func fileExists(_ path: String) -> Bool {
        (try? Sys.status(path)) != nil
    }

    public static func isDirectory(_ path: String) -> Bool {
        guard let st = try? Sys.status(path) else { return false }
        return st.st_mode & S_IFMT == S_IFDIR
    }

    /// File size in bytes.
    public static func fileSize(_ path: String) throws -> Int {
        Int(try Sys.status(path).st_size)
    }

    /// Last modification time, ms since the epoch.
    public static func modificationTimeMillis(_ path: String) throws -> Int64 {
        let mtime = try Sys.status(path).st_mtim
        return Int64(mtime.tv_sec) * 1000 + Int64(mtime.tv_nsec) / 1_000_000
    }

    /// unlink, or rmdir for an (empty) directory, like remove(3). A missing path throws ENOENT.
    public static func remove(_ path: String) throws {
        do {
            try Sys.unlink(path)
        } catch let error as SystemError where error.errno == EISDIR {
            try Sys.rmdir(path)
        }
    }

    /// rename(2) within one file system, then fsync of the target's directory so the move is durable.
    public static func rename(_ from: String, to: String) throws {
        try Sys.rename(from, to)
        let dir = to.lastIndex(of: "/").map { String(to[..<$0]) } ?? "."
        try syncDirectory(dir.isEmpty ? "/" : dir)
    }

    /// rm -rf (for tests and rebuild-index). A missing path is not an error; symbolic links are removed,
    /// never followed.
    public static func removeRecursively(_ path: String) throws {
        let st: stat
        do {
            st = try Sys.linkStatus(path)
        } catch let error as SystemError where error.errno == ENOENT {
            return
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            for name in try Sys.readDirectory(path) {
                try removeRecursively(path + "/" + name)
            }
            try Sys.rmdir(path)
        } else {
            try Sys.unlink(path)
        }
    }

    /// fsync of a directory, so a created / removed entry is durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = try Sys.open(path, O_RDONLY | O_DIRECTORY)
        defer { Sys.close(fd, path) }
        try Sys.fsync(fd, path)
    }

    /// Distinguishes the temporary files of concurrent `writeAtomically` calls in one process.
    private static let temporaryCounter = Atomic<Int>(0)

    /// Writes `bytes` to `path` atomically (write temp, fsync, rename, fsync dir).
    /// The temporary file is `<path>.tmp-<pid>-<n>` in the same directory; it is unlinked when a step fails.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let n = temporaryCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        let temporary = "\(path).tmp-\(getpid())-\(n)"
        do {
            let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_EXCL)
            defer { Sys.close(fd, temporary) }
            try bytes.withUnsafeBytes { try Sys.writeAll(fd, $0, temporary) }
            try Sys.fsync(fd, temporary)
        } catch {
            try? Sys.unlink(temporary)
            throw error
        }
        do {
            try Sys.rename(temporary, path)
        } catch {
            try? Sys.unlink(temporary)
            throw error
        }
        try syncDirectory(parentDirectory(path))
    }

    /// The directory holding `path` ("." for a bare name).
    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try Sys.open(path, O_RDONLY)
        defer { Sys.close(fd, path) }
        // The size is a hint: read until end of file in case the file grows or shrinks meanwhile.
        let hint = Int(try Sys.fstat(fd, path).st_size)
        var result = [UInt8]()
        result.reserveCapacity(hint)
        var chunk = [UInt8](repeating: 0, count: max(4096, min(hint + 1, 1 << 20)))
        while true {
            let n = try chunk.withUnsafeMutableBytes { try Sys.read(fd, $0, path) }
            if n == 0 { return result }
            result.append(contentsOf: chunk[..<n])
        }
    }

    /// statvfs: (total bytes, free bytes) of the file system holding `path`.
    /// "Free" is f_bfree, blocks reserved for root included: what Java's `File.getFreeSpace()` reports, so the
    /// used ratio matches RocketMQ's `diskMaxUsedSpaceRatio` check. (f_bavail would count the reserve as used:
    /// on a disk with a large reserve that reads as 80 % full while it is 17 % used, and retention would delete
    /// live segments.)
    public static func diskSpace(_ path: String) throws -> (total: Int64, free: Int64) {
        let st = try Sys.fileSystemStatus(path)
        let unit = Int64(st.f_frsize)
        return (Int64(st.f_blocks) * unit, Int64(st.f_bfree) * unit)
    }
}

/// Wall clock and monotonic clock in one place, so tests can reason about them.
public enum Clock {
    /// CLOCK_REALTIME in ms.
    public static func wallMillis() -> Int64 {
        let ts = Sys.clock(CLOCK_REALTIME)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// CLOCK_MONOTONIC in ns.
    public static func monotonicNanos() -> UInt64 {
        let ts = Sys.clock(CLOCK_MONOTONIC)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
