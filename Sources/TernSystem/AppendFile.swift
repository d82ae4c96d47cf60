import Glibc

/// A file written front to back with write(2) and made durable with fdatasync(2).
///
///     0 ................................ size
///     [ bytes appended so far            ]
///
/// The store itself writes through `MappedFile`; this type exists so benchmarks can measure the disk's plain
/// sequential write bandwidth (write + fdatasync of the same bytes) as the baseline for sync flush.
/// Not Sendable: one thread at a time.
public final class AppendFile {
    public let path: String
    /// Bytes appended so far (= the file size, since `create` truncates).
    public private(set) var size: Int = 0
    /// The descriptor, -1 once closed.
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close() }

    /// Creates `path` (truncating an existing file) for writing.
    public static func create(path: String) throws -> AppendFile {
        AppendFile(path: path, descriptor: try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC))
    }

    /// write(2) of all of `bytes` at the end of the file (short writes are continued).
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(descriptor >= 0, "AppendFile \(path) used after close()")
        try Sys.writeAll(descriptor, bytes, path)
        size += bytes.count
    }

    /// fdatasync(2): the appended bytes (and the size) are durable when it returns.
    public func syncData() throws {
        precondition(descriptor >= 0, "AppendFile \(path) used after close()")
        try Sys.fdatasync(descriptor, path)
    }

    /// close(2); idempotent.
    public func close() {
        guard descriptor >= 0 else { return }
        Sys.close(descriptor, path)
        descriptor = -1
    }
}

extension Sys {
    static func fdatasync(_ fd: Int32, _ path: String?) throws {
        _ = try retrying("fdatasync", path) { Glibc.fdatasync(fd) }
    }
}
