import Glibc

/// One internal wrapper per C call (swift-system's discipline):
/// - `errno` is read immediately after the failing call, before anything else can overwrite it;
/// - EINTR is retried (except `close`, which on Linux has released the descriptor even when it reports EINTR);
/// - EBADF / EFAULT mean a bug in this module (a stale descriptor, a bad pointer) and trap;
/// - every other failure throws `SystemError(operation: <C function>, path:, errno:)`.
enum Sys {
    // MARK: - errors

    static func error(_ operation: String, _ path: String?, _ code: Int32, _ detail: String? = nil,
                      offset: Int64? = nil) -> SystemError {
        let text = String(cString: strerror(code))
        return SystemError(operation: operation, path: path, errno: code,
                           message: detail.map { "\($0): \(text)" } ?? text, offset: offset)
    }

    /// Traps on the errno values that can only mean a programmer error inside TernSystem.
    static func trapOnBug(_ operation: String, _ path: String?, _ code: Int32) {
        precondition(code != EBADF && code != EFAULT,
                     "\(operation) \(path ?? ""): \(String(cString: strerror(code))) — TernSystem bug")
    }

    /// Calls `body` until it does not fail with EINTR; `body` returns -1 and sets errno on failure.
    /// A failure carries `offset` (where the operation started in the file) when the caller passes one.
    @inline(__always)
    static func retrying<T: FixedWidthInteger>(_ operation: String, _ path: String?, offset: Int64? = nil,
                                               _ body: () -> T) throws -> T {
        while true {
            if let injected = SystemFaults.take(operation, path) {
                if injected == EINTR { continue }
                throw error(operation, path, injected, "injected", offset: offset)
            }
            let result = body()
            if result != -1 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            trapOnBug(operation, path, code)
            throw error(operation, path, code, offset: offset)
        }
    }

    // MARK: - descriptors

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// close(2) is never retried: on Linux the descriptor is gone even when it reports EINTR.
    static func close(_ fd: Int32, _ path: String?) {
        if Glibc.close(fd) == -1 {
            let code = Glibc.errno
            trapOnBug("close", path, code)
        }
    }

    static func fstat(_ fd: Int32, _ path: String?) throws -> Glibc.stat {
        var st = Glibc.stat()
        _ = try retrying("fstat", path) { Glibc.fstat(fd, &st) }
        return st
    }

    static func status(_ path: String) throws -> Glibc.stat {
        var st = Glibc.stat()
        _ = try retrying("stat", path) { stat(path, &st) }
        return st
    }

    static func linkStatus(_ path: String) throws -> Glibc.stat {
        var st = Glibc.stat()
        _ = try retrying("lstat", path) { Glibc.lstat(path, &st) }
        return st
    }

    static func fsync(_ fd: Int32, _ path: String?) throws {
        _ = try retrying("fsync", path) { Glibc.fsync(fd) }
    }

    static func ftruncate(_ fd: Int32, _ length: Int, _ path: String?) throws {
        _ = try retrying("ftruncate", path, offset: Int64(length)) { Glibc.ftruncate(fd, off_t(length)) }
    }

    /// Reserves the blocks of [offset, offset + length). posix_fallocate returns the error number instead of
    /// setting errno, so the result is mapped to `retrying`'s -1 / errno convention.
    static func posixFallocate(_ fd: Int32, offset: Int = 0, _ length: Int, _ path: String?) throws {
        _ = try retrying("posix_fallocate", path, offset: Int64(offset)) { () -> Int32 in
            let code = Glibc.posix_fallocate(fd, off_t(offset), off_t(length))
            if code == 0 { return 0 }
            Glibc.errno = code
            return -1
        }
    }

    static func lock(_ fd: Int32, _ operation: Int32, _ path: String?) throws {
        _ = try retrying("flock", path) { flock(fd, operation) }
    }

    /// Writes all of `bytes` (loops over short writes).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ path: String?) throws {
        var done = 0
        while done < bytes.count {
            let n = try retrying("write", path) { Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }
            done += n
        }
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ path: String?) throws -> Int {
        try retrying("read", path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    // MARK: - paths

    static func mkdir(_ path: String, _ mode: mode_t = 0o755) throws {
        _ = try retrying("mkdir", path) { Glibc.mkdir(path, mode) }
    }

    static func rmdir(_ path: String) throws {
        _ = try retrying("rmdir", path) { Glibc.rmdir(path) }
    }

    static func unlink(_ path: String) throws {
        _ = try retrying("unlink", path) { Glibc.unlink(path) }
    }

    static func rename(_ from: String, _ to: String) throws {
        _ = try retrying("rename", from) { Glibc.rename(from, to) }
    }

    static func fileSystemStatus(_ path: String) throws -> Glibc.statvfs {
        var st = Glibc.statvfs()
        _ = try retrying("statvfs", path) { statvfs(path, &st) }
        return st
    }

    /// Entry names of a directory except "." and "..", in readdir order.
    static func readDirectory(_ path: String) throws -> [String] {
        guard let dir = Glibc.opendir(path) else {
            let code = Glibc.errno
            trapOnBug("opendir", path, code)
            throw error("opendir", path, code)
        }
        defer { Glibc.closedir(dir) }
        var names: [String] = []
        while true {
            Glibc.errno = 0
            guard let entry = Glibc.readdir(dir) else {
                let code = Glibc.errno
                if code == 0 { return names }
                trapOnBug("readdir", path, code)
                throw error("readdir", path, code)
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    // MARK: - memory maps

    static func mmap(_ length: Int, _ protection: Int32, _ fd: Int32, _ path: String?) throws -> UnsafeMutableRawPointer {
        // mmap(2) does not fail with EINTR, so `retrying` only adds the fault hook; MAP_FAILED is
        // ((void *) -1), which Swift does not import: the address goes through as a bit pattern.
        let address = try retrying("mmap", path) { () -> Int in
            guard let base = Glibc.mmap(nil, length, protection, MAP_SHARED, fd, 0) else { return -1 }
            return Int(bitPattern: base)
        }
        return UnsafeMutableRawPointer(bitPattern: address)!
    }

    static func munmap(_ base: UnsafeMutableRawPointer, _ length: Int, _ path: String?) {
        if Glibc.munmap(base, length) == -1 {
            let code = Glibc.errno
            trapOnBug("munmap", path, code)
            preconditionFailure("munmap \(path ?? ""): \(String(cString: strerror(code)))")
        }
    }

    /// `offset`: where `address` lies in the file, reported with a failure.
    static func msync(_ address: UnsafeMutableRawPointer, _ length: Int, _ flags: Int32, _ path: String?,
                      offset: Int64? = nil) throws {
        _ = try retrying("msync", path, offset: offset) { Glibc.msync(address, length, flags) }
    }

    /// madvise(2); returns 0 or the errno (callers decide whether advice failures matter).
    static func madvise(_ address: UnsafeMutableRawPointer, _ length: Int, _ advice: Int32) -> Int32 {
        while true {
            if Glibc.madvise(address, length, advice) == 0 { return 0 }
            let code = Glibc.errno
            if code != EINTR { return code }
        }
    }

    /// posix_fadvise(2) (which returns the error instead of setting errno); returns 0 or the error.
    static func fadvise(_ fd: Int32, _ offset: Int, _ length: Int, _ advice: Int32) -> Int32 {
        while true {
            let code = Glibc.posix_fadvise(fd, off_t(offset), off_t(length), advice)
            if code != EINTR { return code }
        }
    }

    /// mincore(2) into `vector` (one byte per page of `length`); returns 0 or the errno.
    static func mincore(_ address: UnsafeMutableRawPointer, _ length: Int, _ vector: UnsafeMutablePointer<UInt8>) -> Int32 {
        Glibc.mincore(address, length, vector) == 0 ? 0 : Glibc.errno
    }

    static let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))

    // MARK: - clocks

    static func clock(_ id: clockid_t) -> timespec {
        var ts = timespec()
        // clock_gettime can only fail with EINVAL (unknown clock) or EFAULT: both bugs.
        precondition(clock_gettime(id, &ts) == 0, "clock_gettime: \(String(cString: strerror(Glibc.errno)))")
        return ts
    }
}
