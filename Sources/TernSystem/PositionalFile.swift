import Glibc

/// An existing file written at explicit offsets with pwrite(2), sharing the page cache with any mapping of it:
/// bytes written here are visible through a `MappedFile` of the same file as soon as `write` returns (one page
/// cache per file on Linux), and become durable with that mapping's msync or an fdatasync.
///
/// Invariant: the descriptor is open from `open` to deinit and never changes, so the type is immutable and
/// Sendable; concurrent writes to disjoint ranges are the kernel's business (pwrite has no shared offset).
public final class PositionalFile: Sendable {
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { Sys.close(descriptor, path) }

    /// Opens an existing file for writing (never creates or truncates it).
    public static func open(path: String) throws -> PositionalFile {
        PositionalFile(path: path, descriptor: try Sys.open(path, O_WRONLY))
    }

    /// pwrite(2) of all of `bytes` at `offset` (short writes are continued). A failure throws
    /// `SystemError(operation: "pwrite")` carrying the file offset the failing call started at; the bytes before it
    /// may have been written.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let at = offset + done
            done += try Sys.retrying("pwrite", path, offset: Int64(at)) {
                Glibc.pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(at))
            }
        }
    }
}
