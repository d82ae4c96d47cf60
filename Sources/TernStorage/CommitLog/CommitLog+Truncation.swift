import Synchronization
import TernMessage
import TernSystem

/// Durable truncation of a live log (a former leader dropping the records its new leader never had).
///
/// Unlike recovery's cut, the bytes are erased on disk, not only forgotten by in-memory positions: the rest of
/// the segment is zeroed through the mapping and msynced, later segments are deleted and the directory synced.
/// Zeroing through the mapping (instead of ftruncate) keeps concurrent readers of the old tail safe from
/// SIGBUS; they may read zeros, never unmapped memory.
extension CommitLog {
    /// Runs `body` holding the writer: no append, leader or follower, runs meanwhile.
    func withWriter<T>(_ body: (inout WriterState) throws -> T) throws -> T {
        try writer.withLock { w in try body(&w) }
    }

    /// The start of the last record before `offset` (-1 when the log has none), checking that `offset` is a
    /// record boundary at or below `end`: the end of a record, a blank filler's start, or a segment base.
    /// Cost: a walk (no CRC) over at most two segments.
    func lastRecordStart(before offset: Int64, end: Int64) throws -> Int64 {
        guard offset >= minOffset, offset <= end, let seg = segment(containing: offset) else {
            throw StoreError.truncationInvalid(offset: offset, reason: "outside the log [\(minOffset), \(end)]")
        }
        var last: Int64 = -1
        let (stopped, _) = walk(from: seg.base, limit: offset, checkCRC: false) { at, _ in last = at; return true }
        guard stopped == offset else {
            throw StoreError.truncationInvalid(offset: offset, reason: "not a record boundary (a record spans it)")
        }
        if last < 0, seg.base > minOffset {
            let previous = seg.base - Int64(segmentSize)
            _ = walk(from: previous, limit: seg.base, checkCRC: false) { at, _ in last = at; return true }
        }
        return last
    }

    /// Erases everything from `offset` on, durably, and leaves the writer there (the caller holds the writer,
    /// checked the boundary, and seeds the queue offsets afterwards). Lowers `published` first so no new reader
    /// walks into the erased range.
    func eraseDurably(from offset: Int64, _ w: inout WriterState) throws {
        guard let seg = segment(containing: offset) else { preconditionFailure("truncation target outside the log") }
        published.store(offset, ordering: .releasing)
        let written = min(seg.end, max(w.received, w.position, w.current.map { $0.base > seg.base ? seg.end : 0 } ?? 0))
        if written > offset {
            erase(offset..<written)
            try seg.file.sync(Int(offset - seg.base)..<Int(written - seg.base))
        }
        try truncate(from: offset, discardTail: false)  // deletes the later segments and syncs the directory
        try removeFilesAfter(seg)
        w.current = seg
        w.position = offset
        w.received = offset
    }

    /// Deletes segment files past `seg` that are not in the list (a segment prepared ahead of the old end):
    /// left behind, they would be a gap after `seg` and fail the next open.
    private func removeFilesAfter(_ seg: Segment) throws {
        var removed = false
        for name in try FileSystem.listDirectory(directory) {
            guard let base = Segment.base(fromFileName: name), base > seg.base else { continue }
            try FileSystem.remove(directory + "/" + name)
            removed = true
        }
        if removed { try FileSystem.syncDirectory(directory) }
    }
}
