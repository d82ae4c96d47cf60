/// Raw log bytes for a replication master: what its slaves copy byte for byte.
extension MessageStore {
    /// A copy of the published log bytes from `offset`: at most `maxCount`, never past the end of the segment
    /// holding `offset` (a transfer never crosses a segment end, as RocketMQ's `getCommitLogData`), blank
    /// end-of-segment filler included. Empty at the published end; nil when `offset` lies outside the log
    /// (below its first segment after retention, or past its end).
    public func logBytes(from offset: Int64, maxCount: Int) -> [UInt8]? {
        withLogBytes(from: offset, maxCount: maxCount) { Array($0) }
    }

    /// The same bytes lent to `body` (mapped memory, valid only during the call): a master writes them into
    /// its transfer frame with one copy.
    public func withLogBytes<R>(from offset: Int64, maxCount: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        precondition(maxCount > 0)
        let end = log.writePosition
        guard offset <= end else { return nil }
        if offset == end { return offset >= log.minOffset ? try body(UnsafeRawBufferPointer(start: nil, count: 0)) : nil }
        guard let segment = log.segment(containing: offset) else { return nil }
        let count = min(Int64(maxCount), min(segment.end, end) - offset)
        return try body(segment.bytes(offset..<(offset + count)))
    }
}
