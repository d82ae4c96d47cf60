import TernMessage

/// The outcome of `OfflineStore.compare`: two commit logs byte-compared over the range both hold.
public struct LogComparison: Sendable, Codable, Equatable {
    /// One side: its first offset, where its records end (structure checked, not CRCs: a damaged body is a
    /// difference to report, not the end of the log), and why.
    public struct Side: Sendable, Codable, Equatable {
        public var root: String
        public var minOffset: Int64
        public var end: Int64
        /// Set when the data ends at an invalid record instead of at zeros (a torn tail, damage).
        public var endReason: String?
        /// The record holding the first differing byte (nil: equal, or no valid record there).
        public var record: RecordSummary?
    }

    public var a: Side
    public var b: Side
    /// The compared range, [from, to): from the higher first offset to the shorter log's end.
    public var from: Int64
    public var to: Int64
    /// The first physical offset whose byte differs; nil when the range is equal.
    public var firstDifference: Int64?

    public var isEqual: Bool { firstDifference == nil }
}

extension OfflineStore {
    /// Byte-compares this log with `other` over the range both hold, segment by segment on the mapped files,
    /// and names the first differing offset with the record there on each side (replicas after a failover:
    /// a slave's log must equal its master's up to the slave's end). A gap (no segment at an offset on one
    /// side) counts as a difference at that offset.
    public func compare(with other: OfflineStore, bodyBytes: Int = 64) -> LogComparison {
        let (endA, reasonA) = dataEnd(), (endB, reasonB) = other.dataEnd()
        var result = LogComparison(
            a: .init(root: root, minOffset: log.minOffset, end: endA, endReason: reasonA),
            b: .init(root: other.root, minOffset: other.log.minOffset, end: endB, endReason: reasonB),
            from: max(log.minOffset, other.log.minOffset), to: min(endA, endB), firstDifference: nil)
        var pos = result.from
        while pos < result.to {
            guard let sa = log.segment(containing: pos), let sb = other.log.segment(containing: pos) else {
                result.firstDifference = pos
                break
            }
            let upTo = min(sa.end, sb.end, result.to)
            if let at = Self.firstDifference(sa.bytes(pos..<upTo), sb.bytes(pos..<upTo)) {
                result.firstDifference = pos + Int64(at)
                break
            }
            pos = upTo
        }
        if let diff = result.firstDifference {
            result.a.record = record(holding: diff, bodyBytes: bodyBytes)
            result.b.record = other.record(holding: diff, bodyBytes: bodyBytes)
        }
        return result
    }

    /// Where the records end: the walk of the last segment holding any (a prepared next segment is all
    /// zeros); and the reason when an invalid record (a torn tail) ends it. Also the 100 % of progress lines
    /// (a segment file's size is not the data's end).
    func dataEnd() -> (end: Int64, reason: String?) {
        for segment in log.segments.reversed() {
            let (end, stop) = log.walk(from: segment.base, limit: segment.end, checkCRC: false) { _, _ in true }
            if case let .invalid(error) = stop { return (end, LogStop.describe(error)) }
            if end > segment.base || segment.base == log.minOffset { return (end, nil) }
        }
        return (log.minOffset, nil)
    }

    /// The valid record whose bytes include `offset` (walked from its segment's base), or nil.
    func record(holding offset: Int64, bodyBytes: Int) -> RecordSummary? {
        guard let segment = log.segment(containing: offset) else { return nil }
        var found: RecordSummary? = nil
        _ = log.walk(from: segment.base, limit: segment.end, checkCRC: false) { start, view in
            guard start <= offset else { return false }
            if offset < start + Int64(view.bytes.count) {
                found = RecordSummary(view, at: start, bodyBytes: bodyBytes)
                return false
            }
            return true
        }
        return found
    }

    /// Index of the first byte where `a` and `b` (same length) differ; eight bytes at a time.
    static func firstDifference(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int? {
        precondition(a.count == b.count, "compared ranges have the same length")
        var i = 0
        while i + 8 <= a.count {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { break }
            i += 8
        }
        while i < a.count {
            if a[i] != b[i] { return i }
            i += 1
        }
        return nil
    }
}
