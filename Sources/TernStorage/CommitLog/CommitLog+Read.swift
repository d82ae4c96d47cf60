import TernMessage
import TernSystem

extension CommitLog {
    /// The record at `offset` below the published position, framing checked (not its body CRC), with `segment`
    /// as a lookup cache: reused when it holds `offset`, else replaced by the segment that does. A pull reads runs
    /// of records from one segment, so it looks the segment list up (a lock and a retain) once per run.
    ///
    /// A cached segment that retention deleted meanwhile is still mapped (`MappedFile` unmaps in deinit, and
    /// `segment` holds it): its records read as written, as a read that looked it up just before the deletion.
    func record(at offset: Int64, segment: inout Segment?) -> StoredMessage? {
        let limit = writePosition
        guard offset >= 0, offset < limit else { return nil }
        if let cached = segment, offset >= cached.base, offset < cached.end {
        } else {
            segment = self.segment(containing: offset)
        }
        guard let seg = segment else { return nil }
        let end = min(seg.end, limit)
        let bytes = seg.bytes(offset..<end)
        guard case let .record(size) = RecordScanner.scan(bytes, at: 0, checkCRC: false, maxRecordSize: maxRecordSize)
        else { return nil }
        return StoredMessage(segment: seg, physicalOffset: offset, size: size)
    }

    /// Asks the CPU to start loading the `size` bytes at `offset` (a record about to be read), with `segment` as
    /// the lookup cache `record(at:segment:)` uses; nothing for a range not wholly below the published position.
    func prefetch(at offset: Int64, size: Int, segment: inout Segment?) {
        guard offset >= 0, size > 0, offset + Int64(size) <= writePosition else { return }
        if let cached = segment, offset >= cached.base, offset < cached.end {
        } else {
            segment = self.segment(containing: offset)
        }
        guard let seg = segment else { return }
        let start = Int(offset - seg.base)
        seg.file.prefetch(start..<start + size)
    }
}
