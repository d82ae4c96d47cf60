import TernProtocol

extension AdminClient {
    public static let defaultTraceTopic = "RMQ_SYS_TRACE_TOPIC"

    /// The trace of one message: the records about `msgId` (unique or offset id) in `traceTopic`, found by key
    /// (trace messages carry the traced ids in KEYS), in time order, duplicates dropped. A Store record links
    /// an offset id to the unique id the clients' records use, which is then looked up too.
    public func trace(msgId: String, traceTopic: String = AdminClient.defaultTraceTopic) async throws -> [TraceRecord] {
        var ids = [msgId]
        var records: [TraceRecord] = []
        var queried: Set<String> = []
        while let id = ids.popLast() {
            guard queried.insert(id).inserted else { continue }
            let messages = try await queryMessages(topic: traceTopic, key: id, maxNum: 64)
            let found = messages.flatMap { TraceRecord.decode($0.body) }.filter { $0.msgId == id || $0.offsetMsgId == id }
            for r in found where !records.contains(r) { records.append(r) }
            for r in found where !r.msgId.isEmpty && !queried.contains(r.msgId) { ids.append(r.msgId) }
        }
        return TraceTimeline.order(records)
    }
}

/// Orders trace records for display.
public enum TraceTimeline {
    /// SubAfter records of older clients carry no timestamp or group: they are taken from the SubBefore of the
    /// same request (timestamp + consume cost). Then by time, ties in send → store → consume order.
    public static func order(_ records: [TraceRecord]) -> [TraceRecord] {
        var before: [String: TraceRecord] = [:]
        for r in records where r.type == TraceRecord.subBefore && !r.requestId.isEmpty { before[r.requestId] = r }
        let filled = records.map { r -> TraceRecord in
            guard r.type == TraceRecord.subAfter, let b = before[r.requestId] else { return r }
            var r = r
            if r.timestamp == nil, let t = b.timestamp { r.timestamp = t + (r.costMillis ?? 0) }
            if r.group.isEmpty { r.group = b.group }
            return r
        }
        let rank = [TraceRecord.pub: 0, TraceRecord.endTransaction: 1, TraceRecord.store: 2, TraceRecord.subBefore: 3,
                    TraceRecord.subAfter: 4]
        return filled.enumerated().sorted { a, b in
            let ka = (a.element.timestamp ?? .max, rank[a.element.type] ?? 9, a.offset)
            let kb = (b.element.timestamp ?? .max, rank[b.element.type] ?? 9, b.offset)
            return ka < kb
        }.map(\.element)
    }
}
