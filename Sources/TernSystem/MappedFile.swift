/// A file of fixed size mapped shared and read-write into memory.
///
///     0 ............................................. size
///     [ bytes owned by the caller's publication protocol ]
///
/// Invariants:
/// - `size` and the mapping address never change between `open` and deinit (munmap happens in deinit,
///   so any `MappedFile` reference that is alive keeps the bytes addressable, even after the file is unlinked).
/// - This type does not order concurrent writes and reads: the caller (the commit log) publishes a
///   write position with release semantics, and readers read only below a position they loaded with acquire.
///
/// API CONTRACT — implemented by TernSystem. Bounds are checked with preconditions (programmer errors);
/// syscall failures throw `SystemError`.
public final class MappedFile: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init; the mapped bytes are shared memory
    // whose ordering is the caller's responsibility (see the invariants above).
    public let path: String
    public let size: Int
    init(path: String, size: Int) { self.path = path; self.size = size }  // contract placeholder

    /// Opens (creating when `create` is true) `path`, makes it exactly `size` bytes (posix_fallocate for a new
    /// file so blocks are reserved; an existing file of another size is an error), and maps it
    /// PROT_READ|PROT_WRITE, MAP_SHARED.
    public static func open(path: String, size: Int, create: Bool) throws -> MappedFile { fatalError("contract") }

    /// Opens an existing file read-only and maps it PROT_READ, MAP_SHARED (tools that must not modify a store).
    public static func openReadOnly(path: String) throws -> MappedFile { fatalError("contract") }

    public var isWritable: Bool { fatalError("contract") }

    /// Read-only view of `range`; valid while `self` is alive.
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { fatalError("contract") }
    /// Writable view of `range` (precondition: writable mapping).
    public func mutableBytes(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer { fatalError("contract") }

    /// msync(MS_SYNC) of the pages covering `range` (start rounded down to the page size).
    public func sync(_ range: Range<Int>) throws { fatalError("contract") }
    /// msync(MS_ASYNC) of the pages covering `range`: schedule write-back, do not wait.
    public func syncAsync(_ range: Range<Int>) throws { fatalError("contract") }

    /// Faults in the pages of `range` for writing, so a later append does not pay page faults
    /// (MADV_POPULATE_WRITE where the kernel has it, else touching one byte per page with a volatile read+write of
    /// the existing value). Only for ranges no reader or writer is using yet.
    public func prefault(_ range: Range<Int>) { fatalError("contract") }

    public enum Advice: Sendable { case normal, sequential, random, willNeed, dontNeed }
    /// madvise over `range` (page-aligned internally). Errors are ignored (advice only).
    public func advise(_ advice: Advice, _ range: Range<Int>) { fatalError("contract") }

    /// Zero-fills `range` in the mapping (erases a torn tail so a later scan sees end-of-data).
    public func zero(_ range: Range<Int>) { fatalError("contract") }

    /// The system page size.
    public static var pageSize: Int { fatalError("contract") }
}
