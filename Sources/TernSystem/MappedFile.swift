import Glibc

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
    /// Start of the mapping: fixed from init to deinit (munmap).
    private let base: UnsafeMutableRawPointer
    private let writable: Bool

    private init(path: String, size: Int, base: UnsafeMutableRawPointer, writable: Bool) {
        self.path = path
        self.size = size
        self.base = base
        self.writable = writable
    }

    deinit { Sys.munmap(base, size, path) }

    /// Opens (creating when `create` is true) `path`, makes it exactly `size` bytes (posix_fallocate for a new
    /// file so blocks are reserved; an existing file of another size is an error), and maps it
    /// PROT_READ|PROT_WRITE, MAP_SHARED.
    ///
    /// A new file is built under `<path>.tmp` and renamed into place only once its blocks are reserved, so a
    /// failure (ENOSPC from posix_fallocate, an mmap error) or a crash at any step never leaves a short file
    /// under `path`; on failure the temporary is unlinked before the error is thrown. A stale `<path>.tmp` is
    /// replaced. Callers that may race on one path serialise themselves (the commit log does).
    /// With `create`, an existing empty file counts as new (a crash of an older version between creat and
    /// posix_fallocate left one). A size mismatch throws `SystemError(operation: "open", errno: EINVAL)`.
    public static func open(path: String, size: Int, create: Bool) throws -> MappedFile {
        precondition(size > 0, "MappedFile size must be positive")
        if create, (try? Sys.status(path))?.st_size ?? 0 == 0 {
            return try createNew(path: path, size: size)
        }
        let fd = try Sys.open(path, O_RDWR)
        // The mapping outlives the descriptor: close it whatever happens.
        defer { Sys.close(fd, path) }
        let existing = Int(try Sys.fstat(fd, path).st_size)
        guard existing == size else {
            throw Sys.error("open", path, EINVAL, "file is \(existing) bytes, expected \(size)")
        }
        let base = try Sys.mmap(size, PROT_READ | PROT_WRITE, fd, path)
        return MappedFile(path: path, size: size, base: base, writable: true)
    }

    /// open(tmp) → allocate → mmap → rename(tmp, path): `path` appears only complete.
    private static func createNew(path: String, size: Int) throws -> MappedFile {
        let temporary = path + ".tmp"
        let fd = try Sys.open(temporary, O_RDWR | O_CREAT | O_TRUNC)
        defer { Sys.close(fd, temporary) }
        do {
            try allocate(fd, size, temporary)
            let base = try Sys.mmap(size, PROT_READ | PROT_WRITE, fd, path)
            let file = MappedFile(path: path, size: size, base: base, writable: true)
            try Sys.rename(temporary, path)
            return file
        } catch {
            try? Sys.unlink(temporary)
            throw error
        }
    }

    /// Reserves the blocks of a new file; falls back to ftruncate (sparse) where the file system cannot.
    private static func allocate(_ fd: Int32, _ size: Int, _ path: String) throws {
        do {
            try Sys.posixFallocate(fd, size, path)
        } catch let error as SystemError where error.errno == EOPNOTSUPP {
            try Sys.ftruncate(fd, size, path)
        }
    }

    /// Grows an existing, unmapped file to `size` bytes (the new range reads as zeros; blocks reserved with
    /// posix_fallocate where the file system can). Used to give a short trailing segment its full size.
    public static func extend(path: String, to size: Int) throws {
        let fd = try Sys.open(path, O_RDWR)
        defer { Sys.close(fd, path) }
        let existing = Int(try Sys.fstat(fd, path).st_size)
        precondition(existing <= size, "extend would shrink \(path)")
        try allocate(fd, size, path)
        try Sys.fsync(fd, path)
    }

    /// Opens an existing file read-only and maps it PROT_READ, MAP_SHARED (tools that must not modify a store).
    /// An empty file cannot be mapped: throws `SystemError(operation: "mmap", errno: EINVAL)`.
    public static func openReadOnly(path: String) throws -> MappedFile {
        let fd = try Sys.open(path, O_RDONLY)
        defer { Sys.close(fd, path) }
        let size = Int(try Sys.fstat(fd, path).st_size)
        guard size > 0 else { throw Sys.error("mmap", path, EINVAL, "empty file") }
        let base = try Sys.mmap(size, PROT_READ, fd, path)
        return MappedFile(path: path, size: size, base: base, writable: false)
    }

    public var isWritable: Bool { writable }

    @inline(__always)
    private func check(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= size,
                     "range \(range) outside mapped file \(path) of \(size) bytes")
    }

    /// Read-only view of `range`; valid while `self` is alive.
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        check(range)
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Writable view of `range` (precondition: writable mapping).
    public func mutableBytes(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        check(range)
        precondition(writable, "mutableBytes on read-only mapping \(path)")
        return UnsafeMutableRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// The page-aligned span covering `range`: start rounded down to the page size, end unchanged
    /// (msync and madvise want a page-aligned address, not a page-multiple length).
    private func pages(_ range: Range<Int>) -> (address: UnsafeMutableRawPointer, length: Int) {
        check(range)
        let start = range.lowerBound & ~(Self.pageSize - 1)
        return (base + start, range.upperBound - start)
    }

    /// msync(MS_SYNC) of the pages covering `range` (start rounded down to the page size).
    public func sync(_ range: Range<Int>) throws {
        guard !range.isEmpty else { return }
        let span = pages(range)
        try Sys.msync(span.address, span.length, MS_SYNC, path, offset: Int64(span.address - base))
    }

    /// msync(MS_ASYNC) of the pages covering `range`: schedule write-back, do not wait.
    public func syncAsync(_ range: Range<Int>) throws {
        guard !range.isEmpty else { return }
        let span = pages(range)
        try Sys.msync(span.address, span.length, MS_ASYNC, path, offset: Int64(span.address - base))
    }

    /// MADV_POPULATE_WRITE (Linux 5.14); defined here because older Glibc headers lack it.
    private static let madvPopulateWrite: Int32 = 23

    /// Faults in the pages of `range` for writing, so a later append does not pay page faults
    /// (MADV_POPULATE_WRITE where the kernel has it, else touching one byte per page with a volatile read+write of
    /// the existing value). Only for ranges no reader or writer is using yet. `singlePages`: see
    /// `withSinglePageCache`.
    public func prefault(_ range: Range<Int>, singlePages: Bool = false) {
        precondition(writable, "prefault on read-only mapping \(path)")
        guard !range.isEmpty else { return }
        let span = pages(range)
        if singlePages { return withSinglePageCache(span) { prefault(range) } }
        // Any failure (EINVAL on kernels without the advice, ENOMEM…) falls back to touching:
        // prefaulting is an optimisation, and a real I/O problem will surface on the write itself.
        if populateWrite(span) { return }
        var offset = 0
        while offset < span.length {
            touchPage(span.address + offset)
            offset += Self.pageSize
        }
    }

    /// Faults in `range` for writing with MADV_POPULATE_WRITE only, never touching bytes, so it is safe on a
    /// range a writer may reach concurrently (the kernel never changes page contents here). Returns false
    /// when the kernel lacks the advice (nothing was done).
    @discardableResult
    public func prefaultWithoutTouching(_ range: Range<Int>, singlePages: Bool = false) -> Bool {
        precondition(writable, "prefault on read-only mapping \(path)")
        guard !range.isEmpty else { return true }
        let span = pages(range)
        return singlePages ? withSinglePageCache(span) { populateWrite(span) } : populateWrite(span)
    }

    /// Faults in the pages of `range` for reading only (MADV_POPULATE_READ, Linux 5.14): they enter the page cache
    /// and the mapping read-only, so a writer that fills them with pwrite(2) finds them cached, and a write-back
    /// need not write-protect them again (no writable entries). Contents never change. Returns false when the
    /// kernel lacks the advice (nothing was done).
    @discardableResult
    public func prefaultForReading(_ range: Range<Int>, singlePages: Bool = false) -> Bool {
        guard !range.isEmpty else { return true }
        let span = pages(range)
        return singlePages ? withSinglePageCache(span) { populate(span, Self.madvPopulateRead) }
            : populate(span, Self.madvPopulateRead)
    }

    /// MADV_POPULATE_READ (Linux 5.14); defined here because older Glibc headers lack it.
    private static let madvPopulateRead: Int32 = 22

    /// Runs `body` (which faults in `span`) with MADV_RANDOM on `span`, then MADV_NORMAL again, so the page-cache
    /// folios it creates are single pages. Why: with readahead, ext4 on recent kernels (6.18 on the benchmark VMs) caches a file written in
    /// sequence in large folios, up to MiBs, and a folio is written back and write-protected whole: an msync of
    /// a record at the log's tail then writes the entire folio around it (zeros ahead of the writer included), and
    /// the appends after it fault once per page of that folio to dirty it again, which is written again at the
    /// next msync. A group commit every few hundred µs thus wrote ~10× its data and took ~6 faults per round;
    /// with single pages it writes its own pages and the tail page, and faults once. The async flush's msync every
    /// interval did the same on a slower beat: the writer then stalled on the write-back of a whole folio (a broker
    /// at 10 k msg/s answered sends with a p99 of ~28 ms, ~1 ms with single pages; BROKER-RESULTS.md), so the
    /// store prefaults single pages in both modes; large folios stay for readers. MADV_RANDOM only skips readahead for
    /// faults in `span` meanwhile; contents never change. No other advice is kept on writable mappings (NORMAL
    /// restores it).
    private func withSinglePageCache<R>(_ span: (address: UnsafeMutableRawPointer, length: Int), _ body: () -> R) -> R {
        _ = Sys.madvise(span.address, span.length, MADV_RANDOM)
        defer { _ = Sys.madvise(span.address, span.length, MADV_NORMAL) }
        return body()
    }

    /// Most bytes one MADV_POPULATE_WRITE covers. The kernel holds the process's mmap lock for reading while it
    /// populates, and a thread that needs it for writing (glibc malloc growing or trimming a thread's heap with
    /// mprotect / madvise, any mmap / munmap) waits for the whole call, then every later page fault waits behind
    /// that writer: one 16 MiB populate stalled a broker event loop 131 ms in mprotect. A quarter MiB (64
    /// pages) bounds that wait to one chunk; the lock is free between chunks.
    static let populateChunk = 256 << 10

    /// MADV_POPULATE_WRITE over `span`, one `populateChunk` per call; false when the kernel lacks the advice.
    private func populateWrite(_ span: (address: UnsafeMutableRawPointer, length: Int)) -> Bool {
        populate(span, Self.madvPopulateWrite)
    }

    /// One populate `advice` per `populateChunk` of `span`; false when the kernel lacks it.
    private func populate(_ span: (address: UnsafeMutableRawPointer, length: Int), _ advice: Int32) -> Bool {
        var done = 0
        while done < span.length {
            let n = min(Self.populateChunk, span.length - done)
            if Sys.madvise(span.address + done, n, advice) != 0 { return false }
            done += n
        }
        return true
    }

    public enum Advice: Sendable { case normal, sequential, random, willNeed, dontNeed }
    /// madvise over `range` (page-aligned internally). Errors are ignored (advice only).
    public func advise(_ advice: Advice, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let span = pages(range)
        let value: Int32
        switch advice {
        case .normal: value = MADV_NORMAL
        case .sequential: value = MADV_SEQUENTIAL
        case .random: value = MADV_RANDOM
        case .willNeed: value = MADV_WILLNEED
        case .dontNeed: value = MADV_DONTNEED
        }
        _ = Sys.madvise(span.address, span.length, value)
    }

    /// Zero-fills `range` in the mapping (erases a torn tail so a later scan sees end-of-data).
    public func zero(_ range: Range<Int>) {
        mutableBytes(range).initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// The system page size.
    public static var pageSize: Int { Sys.pageSize }
}

/// Reads one byte and writes it back. Compiled without optimisation and never inlined, so the load and the
/// store are both emitted (Swift has no `volatile`; an optimiser would delete `*p = *p`).
@inline(never) @_optimize(none)
private func touchPage(_ address: UnsafeMutableRawPointer) {
    let p = address.assumingMemoryBound(to: UInt8.self)
    p.pointee = p.pointee
}
