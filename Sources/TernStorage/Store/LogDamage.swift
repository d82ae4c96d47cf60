import TernMessage

/// Bytes of the log between two valid records that hold no valid record: damage in the middle of the log
/// (bit rot, a bad sector, a stray write). Such a range is reported and skipped, never truncated: the records
/// after it are intact and were acknowledged. Only damage followed by nothing valid is a torn tail, which
/// recovery truncates.
public struct DamagedRange: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Offset of the first invalid record.
    public var start: Int64
    /// Offset of the next valid record (or blank filler) after it.
    public var end: Int64
    /// Base offset of the segment holding `start`.
    public var segmentBase: Int64
    /// Why the record at `start` failed validation, in words.
    public var reason: String

    public var bytes: Int64 { end - start }
    public var segmentFileName: String { Segment.fileName(base: segmentBase) }
    public var description: String {
        "\(bytes) damaged bytes at log offsets \(start)..<\(end) in segment \(segmentFileName): \(reason)"
    }
}

extension CommitLog {
    /// Walks like `walk(checkCRC: true)`, but steps over damage in the middle of the log: an invalid record
    /// followed by a valid one later in the log goes to `damaged` and the walk resumes at the valid record.
    /// Stops at end of data, at `limit`, when `visit` returns false, or at a torn tail (an invalid record with
    /// nothing valid after it: `.invalid`). This is the one definition of "lost" that recovery,
    /// `rebuild-index`, `verify` and `stats` share.
    func walkAcrossDamage(from start: Int64, limit: Int64 = .max, _ visit: (Int64, RecordView) throws -> Bool,
                          damaged: (DamagedRange) throws -> Void) rethrows -> (end: Int64, stop: WalkStop) {
        var position = start
        while true {  // Bounded: every round resumes strictly after the last one's stop.
            let (end, stop) = try walk(from: position, limit: limit, checkCRC: true, visit)
            guard case let .invalid(error) = stop, let next = nextValidRecord(after: end, error), next < limit else {
                return (end, stop)
            }
            precondition(next > end, "resync must move forward")
            try damaged(DamagedRange(start: end, end: next, segmentBase: segment(containing: end)?.base ?? end,
                                     reason: LogStop.describe(error)))
            position = next
        }
    }

    /// Where the walk can resume after the invalid record at `offset`: the first later offset, anywhere in the
    /// log, where a valid record (body CRC checked) or a blank filler ending exactly at its segment's end
    /// starts; nil when there is none (a torn tail). When only the body CRC failed the record's framing is
    /// intact, so the record right after it is tried first (a body that happens to contain a record image is
    /// then never mistaken for one). Cost: one pass over the rest of the log in the worst case; runs of zero
    /// bytes (never-written space) are skipped 8 bytes at a time, since a record's TOTALSIZE is never zero.
    func nextValidRecord(after offset: Int64, _ error: RecordScanError) -> Int64? {
        if case .bodyCRCMismatch = error, let seg = segment(containing: offset) {
            let size = Int64(seg.bytes(offset..<seg.end).loadUnaligned(as: UInt32.self).bigEndian)
            if offset + size < seg.end, startsValidRecord(at: offset + size, in: seg) { return offset + size }
        }
        var from = offset + 1
        for seg in segments where seg.end > from {
            let bytes = seg.bytes(seg.base..<seg.end)
            var i = Int(max(from, seg.base) - seg.base)
            while i + 8 <= bytes.count {
                if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) == 0 { i += 5; continue }
                if startsValidRecord(at: seg.base + Int64(i), in: seg) { return seg.base + Int64(i) }
                i += 1
            }
            from = seg.end
        }
        return nil
    }

    private func startsValidRecord(at offset: Int64, in seg: Segment) -> Bool {
        let bytes = seg.bytes(offset..<seg.end)
        switch RecordScanner.scan(bytes, at: 0, checkCRC: true, maxRecordSize: maxRecordSize) {
        case .record: return true
        case let .blank(size): return size == bytes.count
        case .endOfData, .invalid: return false
        }
    }
}
