import Synchronization
import TernSystem

extension CommitLog {
    /// Dropped ranges end on multiples of this. The page cache holds a sequentially written file in large folios
    /// (up to 2 MiB), and the kernel drops a folio only when the range covers it whole and nothing maps any of it:
    /// ends every ~1 MiB, as the prefault passes came, fell inside folios, which then stayed cached for good (the
    /// next pass starts above them).
    static let cacheDropGranule: Int64 = 4 << 20

    /// Drops from the page cache the log's pages that are flushed and more than `keep` bytes behind the writer,
    /// in every segment, and returns the bytes dropped.
    ///
    /// Why: each new log page is a page-cache page the kernel zero-fills when the prefault (or the writer) first
    /// touches it. Taken from never-used memory, that first touch cost ~9 µs per page on the benchmark VMs (the
    /// hypervisor backs the page then), against ~0.6 µs for a page freed moments before. Dropping the old tail
    /// just before `prefaultAhead` hands the next pages recycled, warm memory, and bounds the log's page cache to
    /// about `keep` plus the unflushed tail. Readers of dropped bytes read them back from the file.
    @discardableResult
    func dropCachedLog(flushed: Int64, keep: Int, granule: Int64 = cacheDropGranule) -> Int64 {
        let position = writePosition
        var upTo = min(flushed, position - Int64(keep))
        upTo -= upTo % granule
        let from = max(cacheDroppedBelow.withLock { $0 }, minOffset)
        guard upTo > from else { return 0 }
        for seg in segments where seg.end > from && seg.base < upTo {
            let lo = Int(max(from, seg.base) - seg.base), hi = Int(min(upTo, seg.end) - seg.base)
            seg.file.dropFromPageCache(lo..<hi)
        }
        cacheDroppedBelow.withLock { $0 = upTo }
        return upTo - from
    }

    // MARK: Flushing and unmapping

    /// Drops the page-table mappings of full segments that are flushed (MADV_DONTNEED): the pages stay in the
    /// page cache, so readers only take a minor fault, but the broker's resident set stays bounded by the
    /// active segment instead of growing with the log. Returns how many segments were released.
    @discardableResult
    func releaseFlushedSegments(flushed: Int64) -> Int {
        let active = writer.withLock { $0.current?.base }
        let below = releasedBelow.withLock { $0 }
        var released = 0
        for seg in segmentList.withLock({ $0 }) where seg.base >= below && seg.end <= flushed && seg.base != active {
            seg.file.advise(.dontNeed, 0..<seg.size)
            releasedBelow.withLock { $0 = max($0, seg.end) }
            released += 1
        }
        return released
    }

    /// Unmaps the active segment's pages that are flushed and more than `keep` bytes behind the writer
    /// (MADV_DONTNEED on a shared file mapping keeps them in the page cache). Returns bytes released.
    @discardableResult
    func releaseActiveTail(flushed: Int64, keep: Int) -> Int64 {
        let (seg, position) = writer.withLock { ($0.current, $0.position) }
        guard let seg else { return 0 }
        let page = Int64(MappedFile.pageSize)
        var upTo = min(flushed, position - Int64(keep))
        upTo -= upTo % page
        let from = activeReleasedUpTo.withLock { max($0, seg.base) }
        guard upTo > from, upTo <= seg.end else { return 0 }
        seg.file.advise(.dontNeed, Int(from - seg.base)..<Int(upTo - seg.base))
        activeReleasedUpTo.withLock { $0 = upTo }
        return upTo - from
    }

    /// msync of every segment overlapping [from, to).
    func flush(from: Int64, to: Int64) throws {
        guard to > from else { return }
        for seg in segmentList.withLock({ $0 }) where seg.end > from && seg.base < to {
            let lo = Int(max(from, seg.base) - seg.base), hi = Int(min(to, seg.end) - seg.base)
            try seg.file.sync(lo..<hi)
        }
    }
}
