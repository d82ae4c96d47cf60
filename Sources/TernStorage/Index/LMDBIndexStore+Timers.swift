import TernSystem

/// Pending timers (delayed messages by due time): keys `due, physical offset` as two big-endian UInt64, so a
/// cursor walks them earliest first. Written inside `apply`'s transaction (`applyDelivery`).
extension LMDBIndexStore {
    public func timers(dueBy due: Int64, limit: Int) throws -> [TimerEntry] {
        var out: [TimerEntry] = []
        guard limit > 0 else { return out }
        try env.read { t in
            try t.withCursor(timer) { cur in
                var e = try cur.first()
                while let (k, _) = e, out.count < limit {
                    let entry = Self.decodeTimerKey(k)
                    guard entry.due <= due else { break }
                    out.append(entry)
                    e = try cur.next()
                }
            }
        }
        return out
    }

    public func firstTimer() throws -> TimerEntry? {
        try env.read { t in try t.withCursor(timer) { cur in try cur.first().map { Self.decodeTimerKey($0.0) } } }
    }

    static func timerKey(_ e: TimerEntry) -> [UInt8] {
        var k = [UInt8](); k.reserveCapacity(16)
        k.appendBigEndian(UInt64(bitPattern: e.due)); k.appendBigEndian(UInt64(bitPattern: e.physicalOffset))
        return k
    }

    static func decodeTimerKey(_ k: UnsafeRawBufferPointer) -> TimerEntry {
        TimerEntry(due: Int64(bitPattern: k.loadBigEndian(UInt64.self, at: 0)),
                   physicalOffset: Int64(bitPattern: k.loadBigEndian(UInt64.self, at: 8)))
    }
}
