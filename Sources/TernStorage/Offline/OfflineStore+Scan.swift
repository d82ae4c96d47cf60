import TernMessage

/// Where and why a scan of the log stopped short of clean end-of-data.
public struct LogStop: Sendable, Codable, Equatable {
    /// Physical offset of the record that failed validation.
    public var offset: Int64
    /// The validation failure, in words (e.g. "body CRC mismatch: stored 0x1A2B3C4D, computed 0x…").
    public var reason: String

    init(offset: Int64, _ error: RecordScanError) {
        self.offset = offset
        self.reason = Self.describe(error)
    }

    static func describe(_ error: RecordScanError) -> String {
        switch error {
        case .truncatedHeader: "truncated header: fewer than 8 bytes before the segment end"
        case let .sizeOutOfBounds(size):
            "TOTALSIZE \(size) out of bounds (below 91, above the maximum, or past the segment end)"
        case let .badMagic(magic): "bad magic 0x\(hex(magic)) (neither a message nor a blank)"
        case .lengthMismatch: "TOTALSIZE disagrees with the body, topic and properties lengths"
        case .topicLengthInvalid: "topic length not in 1...127"
        case let .bodyCRCMismatch(stored, computed):
            "body CRC mismatch: stored 0x\(hex(stored)), computed 0x\(hex(computed))"
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// How the walk of one segment ended.
struct SegmentWalk {
    var base: Int64
    /// The segment end after a blank filler; otherwise the offset where end-of-data or an invalid record was met.
    var end: Int64
    var stop: CommitLog.WalkStop

    /// True when the segment holds records up to a blank or to zeros (the active segment's tail).
    var isClean: Bool {
        if case .invalid = stop { return false }
        return true
    }
}

extension OfflineStore {
    /// Walks every segment from `from` on, each one independently from its base: after an invalid record the
    /// next record boundary is unknown, so the walk of that segment ends there and the next segment starts
    /// afresh at its base (a record boundary by construction: records never span segments). Records below
    /// `from` are validated but not visited. `visit` returns false to stop the whole walk; `segmentDone` sees
    /// each segment's outcome as soon as its walk ends. Returns the outcomes, one per segment walked, in log order.
    @discardableResult
    func walkSegments(from: Int64 = 0, checkCRC: Bool, _ visit: (Int64, RecordView) throws -> Bool,
                      segmentDone: (SegmentWalk) throws -> Void = { _ in }) rethrows -> [SegmentWalk]
    {
        var outcomes: [SegmentWalk] = []
        for segment in log.segments where segment.end > from {
            let (end, stop) = try log.walk(from: segment.base, limit: segment.end, checkCRC: checkCRC) { offset, view in
                offset < from ? true : try visit(offset, view)
            }
            let outcome = SegmentWalk(base: segment.base, end: end, stop: stop)
            outcomes.append(outcome)
            try segmentDone(outcome)
            if stop == .stoppedByCaller { break }
        }
        return outcomes
    }
}
