import Glibc

/// The one error type of TernSystem: which operation failed, on which path, at which file offset (where one
/// means something: a write position, an allocation's start), with which errno.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The C function that failed ("msync", "posix_fallocate", …).
    public var operation: String
    public var path: String?
    public var errno: Int32
    /// strerror text, prefixed with a detail when the wrapper adds one ("injected: …").
    public var message: String
    /// Byte offset in the file the operation started at, when it has one.
    public var offset: Int64?

    public init(operation: String, path: String?, errno: Int32, message: String, offset: Int64? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.message = message
        self.offset = offset
    }

    /// The errno's symbolic name ("EIO", "ENOSPC"), or "errno N" for one outside the table.
    public var errnoName: String { Self.name(ofErrno: errno) }

    static func name(ofErrno code: Int32) -> String { names[code] ?? "errno \(code)" }

    /// "msync /data/commitlog/00000000000000000000 at 4096: EIO (Input/output error)".
    public var description: String {
        "\(operation)\(path.map { " \($0)" } ?? "")\(offset.map { " at \($0)" } ?? ""): \(errnoName) (\(message))"
    }

    /// The errnos a file, map or directory operation can report (glibc has strerrorname_np, but Swift's Glibc
    /// module does not import it).
    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE",
        EMFILE: "EMFILE", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG", ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS",
        EMLINK: "EMLINK", ENAMETOOLONG: "ENAMETOOLONG", ENOLCK: "ENOLCK", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
        ELOOP: "ELOOP", EOVERFLOW: "EOVERFLOW", EOPNOTSUPP: "EOPNOTSUPP", ETIMEDOUT: "ETIMEDOUT", ESTALE: "ESTALE",
        EDQUOT: "EDQUOT", ECANCELED: "ECANCELED",
    ]
}
