import TernMessage

/// Which records `dump` shows.
public struct DumpFilter: Sendable {
    /// Only records of this topic; nil: all.
    public var topic: String?
    /// Physical offset range [from, to): records starting in it.
    public var fromOffset: Int64 = 0
    public var toOffset: Int64 = .max
    /// Most records shown.
    public var limit: Int = .max
    /// Body bytes in each record's preview.
    public var bodyBytes: Int = 64
    public init() {}
}

/// One item of a dump, in log order.
public enum DumpEvent: Sendable, Equatable {
    case record(RecordSummary)
    /// The first invalid record of a segment: the rest of that segment cannot be walked.
    case invalid(LogStop)
}

public struct DumpSummary: Sendable, Codable, Equatable {
    /// Records passed to the caller.
    public var recordsShown: Int
    /// Records walked in the offset range, before the topic filter.
    public var recordsInRange: Int
    /// First invalid record of each segment walked.
    public var invalidRecords: [LogStop]
}

extension OfflineStore {
    /// Visits the records that pass `filter`, in log order, with the first invalid record of each segment
    /// interleaved. Records are walked without stopping at a bad CRC (each summary says whether its CRC
    /// holds), so one flipped body bit hides nothing; a broken header ends only its own segment's walk.
    @discardableResult
    public func dump(_ filter: DumpFilter, _ visit: (DumpEvent) throws -> Void) rethrows -> DumpSummary {
        var summary = DumpSummary(recordsShown: 0, recordsInRange: 0, invalidRecords: [])
        guard filter.limit > 0, filter.fromOffset < filter.toOffset else { return summary }
        let topic = filter.topic.map { Array($0.utf8) }
        try walkSegments(from: filter.fromOffset, checkCRC: false, { offset, view in
            guard offset < filter.toOffset else { return false }
            summary.recordsInRange += 1
            if let topic, !view.topic.elementsEqual(topic) { return true }
            try visit(.record(RecordSummary(view, at: offset, bodyBytes: filter.bodyBytes)))
            summary.recordsShown += 1
            return summary.recordsShown < filter.limit
        }, segmentDone: { outcome in
            guard case let .invalid(error) = outcome.stop, outcome.end < filter.toOffset else { return }
            let stop = LogStop(offset: outcome.end, error)
            summary.invalidRecords.append(stop)
            try visit(.invalid(stop))
        })
        return summary
    }
}
