import CMemoryHints
import Glibc

extension MappedFile {
    /// Drops the pages of `range` from this mapping and from the page cache (MADV_DONTNEED, then
    /// posix_fadvise(POSIX_FADV_DONTNEED) through a descriptor opened for the call), so their memory returns to the
    /// kernel's free lists, from where the next page-cache page, e.g. the next prefault, takes it while it is still
    /// warm. The contents do not change: a later read faults the bytes back from the file.
    ///
    /// Only for bytes already written back (after msync): the kernel drops clean pages only and starts write-back of
    /// dirty ones, which then stay cached. Errors are ignored (advice only); `range` is rounded inwards to whole
    /// pages, so a partial page at either end stays.
    public func dropFromPageCache(_ range: Range<Int>) {
        let page = Self.pageSize
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard start < end else { return }
        advise(.dontNeed, start..<end)
        guard let fd = try? Sys.open(path, O_RDONLY) else { return }
        defer { Sys.close(fd, path) }
        _ = Sys.fadvise(fd, start, end - start, POSIX_FADV_DONTNEED)
    }

    /// Makes the file system write `range`'s blocks ahead of the writer: faults its pages in for writing, writes them
    /// back and waits (sync_file_range), then faults them in for writing again. Contents never change (both faults are
    /// MADV_POPULATE_WRITE; the write-back writes what the pages hold), so it is safe on a range a writer may reach
    /// meanwhile. Why: a segment's blocks are reserved with posix_fallocate as unwritten extents, and the first
    /// write-back of each block converts its extent, a journaled change that every group commit (msync) in new
    /// blocks otherwise waits for. The second fault leaves the pages writable, so the writer takes no write fault.
    /// Costs a write of the range's bytes to disk (zeros, or whatever they hold). A failed write-back is ignored
    /// (it is advice: the group commit's msync writes those pages and reports the error); returns whether the pages
    /// were faulted in, as `prefaultWithoutTouching` does.
    @discardableResult
    public func writeAhead(_ range: Range<Int>, singlePages: Bool = false) -> Bool {
        guard !range.isEmpty, prefaultWithoutTouching(range, singlePages: singlePages) else { return false }
        let page = Self.pageSize
        let start = range.lowerBound / page * page, end = min(size, (range.upperBound + page - 1) / page * page)
        if let fd = try? Sys.open(path, O_RDONLY) {
            _ = tern_write_back(fd, off_t(start), off_t(end - start))
            Sys.close(fd, path)
        }
        return prefaultWithoutTouching(range, singlePages: singlePages)
    }

    /// Asks the CPU to start loading `range` (clamped to the file) into its caches: a hint that never faults and
    /// changes nothing, for bytes about to be read in full (a pull's next records), so their cache misses overlap
    /// the reading of the ones before instead of stalling it one after another.
    public func prefetch(_ range: Range<Int>) {
        let lower = max(0, range.lowerBound), upper = min(size, range.upperBound)
        guard lower < upper else { return }
        tern_prefetch_read(bytes(lower..<upper).baseAddress!, upper - lower)
    }

    /// How many pages of `range` (rounded outwards to whole pages) are in the page cache (mincore(2)); nil when
    /// the kernel refuses. For tests and diagnostics: a page can leave the cache right after it was counted.
    public func residentPageCount(_ range: Range<Int>) -> Int? {
        let page = Self.pageSize
        let start = range.lowerBound / page * page, end = min(size, (range.upperBound + page - 1) / page * page)
        guard start < end else { return 0 }
        var vector = [UInt8](repeating: 0, count: (end - start) / page)
        let address = UnsafeMutableRawPointer(mutating: bytes(start..<end).baseAddress!)
        let code = vector.withUnsafeMutableBufferPointer { Sys.mincore(address, end - start, $0.baseAddress!) }
        guard code == 0 else { return nil }
        return vector.reduce(0) { $0 + Int($1 & 1) }
    }
}
