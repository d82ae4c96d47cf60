import Foundation
import TernStorage
import TernSystem

// Text and JSON rendering. Text goes to stdout, progress and errors to stderr.

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

private func encoder(pretty: Bool) -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    if pretty { e.outputFormatting.insert(.prettyPrinted) }
    return e
}

func printJSON<T: Encodable>(_ value: T) {
    // Our report types hold only strings and integers: encoding cannot fail.
    print(String(decoding: try! encoder(pretty: true).encode(value), as: UTF8.self))
}

func printJSONLine<T: Encodable>(_ value: T) {
    print(String(decoding: try! encoder(pretty: false).encode(value), as: UTF8.self))
}

/// One line of `dump --json`: exactly one of the three fields is set.
struct DumpLine: Encodable {
    var record: RecordSummary?
    var invalid: LogStop?
    var summary: DumpSummary?

    init(_ event: DumpEvent) {
        switch event {
        case let .record(r): record = r
        case let .invalid(stop): invalid = stop
        }
    }

    init(summary: DumpSummary) { self.summary = summary }
}

/// ISO 8601 UTC with milliseconds, or the raw number when it is not a plausible time.
func time(_ millis: Int64) -> String {
    guard millis > 0 else { return "\(millis)" }
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}

/// "name   value" rows with the names padded to one column.
func printRows(_ rows: [(String, String)], indent: String = "") {
    let width = rows.map(\.0.count).max() ?? 0
    for (name, value) in rows {
        print(indent + name + String(repeating: " ", count: width - name.count + 2) + value)
    }
}

func printStats(_ s: StoreStats) {
    var rows: [(String, String)] = [("store", s.root)]
    let size = s.segmentSize.map { "\($0)" } ?? "-"
    rows.append(("segments", "\(s.segmentCount) x \(size) B = \(s.segmentBytes) B"))
    rows.append(("log offsets", "\(s.minOffset) ..< \(s.maxOffset)"))
    rows.append(("valid end", "\(s.validEnd)"))
    rows.append(("messages", "\(s.messageCount)"))
    if let first = s.firstStoreTimestamp, let last = s.lastStoreTimestamp {
        rows.append(("store times", "\(time(first)) .. \(time(last))"))
    }
    for d in s.damagedRanges { rows.append(("damaged range", "\(d)")) }
    if let bad = s.invalidRecord { rows.append(("torn tail", "at \(bad.offset): \(bad.reason)")) }
    printRows(rows)
    guard let i = s.index else { return print("index          none") }
    print("index")
    printRows([
        ("path", i.path),
        ("checkpoint", "\(i.checkpointOffset) (last record \(i.checkpointLastRecord))"),
        ("unindexed tail",
         "\(i.unindexedTailBytes) B" + (i.unindexedTailBytes < 0 ? " (checkpoint past the valid end)" : "")),
        ("queues", "\(i.queues) (\(i.queueEntries) entries)"),
        ("keys", "\(i.keyEntries) key entries, \(i.uniqueKeyEntries) unique-key entries"),
        ("transactions", "\(i.transactionStates) states"),
        ("consumer offsets", "\(i.consumerOffsets)"),
        ("LMDB bytes used", "\(i.bytesUsed)"),
    ], indent: "  ")
}

func printDumpEvent(_ event: DumpEvent) {
    switch event {
    case let .invalid(stop):
        print("offset=\(stop.offset) INVALID: \(stop.reason) (rest of the segment skipped)")
    case let .record(r):
        print("offset=\(r.physicalOffset) size=\(r.size) topic=\(r.topic) queueId=\(r.queueId) "
            + "queueOffset=\(r.queueOffset) sysFlag=\(r.sysFlag) (\(r.transactionType)) "
            + "store=\(time(r.storeTimestamp)) "
            + "born=\(time(r.bornTimestamp)) crc=\(r.bodyCRCValid ? "ok" : "BAD") msgId=\(r.messageId)")
        var keys: [String] = []
        if let t = r.tags { keys.append("tags=\(t)") }
        if let k = r.keys { keys.append("keys=\"\(k)\"") }
        if let u = r.uniqueKey { keys.append("uniqKey=\(u)") }
        if !keys.isEmpty { print("    " + keys.joined(separator: " ")) }
        print("    flag=\(r.flag) reconsume=\(r.reconsumeTimes) preparedTxOffset=\(r.preparedTransactionOffset) "
            + "bornHost=\(r.bornHost) storeHost=\(r.storeHost)")
        print("    properties: " + r.properties.map { "\($0.name)=\($0.value)" }.joined(separator: ", "))
        print("    body[\(r.bodyLength)]: \(r.bodyPreview)\(r.bodyPreview.utf8.count < r.bodyLength ? "…" : "")")
    }
}

func printVerify(_ r: VerifyReport) {
    let cp = r.checkpoint.map { "checkpoint \($0)" } ?? "no index (log checked only)"
    print("checked \(r.segmentsScanned) segments, \(r.recordsScanned) records, \(r.entriesChecked) queue entries, "
        + "\(r.keysChecked) keys; valid end \(r.validEnd), \(cp)")
    guard !r.isClean else { return print("OK: no problems") }
    print("\(r.problemCount) problem\(r.problemCount == 1 ? "" : "s")"
        + (r.problems.count < r.problemCount ? " (first \(r.problems.count) listed)" : "") + ":")
    for p in r.problems { print("  offset \(p.offset) \(p.kind.rawValue): \(p.message)") }
}

func printQueues(_ queues: [QueueInfo]) {
    var rows: [(String, String)] = [("topic/queue", "min          max          messages")]
    for q in queues {
        let cells = [q.minOffset, q.maxOffset, q.messageCount].map { v in
            let s = "\(v)"
            return s + String(repeating: " ", count: max(1, 13 - s.count))
        }
        rows.append(("\(q.topic)/\(q.queueId)", cells.joined().trimmingCharacters(in: .whitespaces)))
    }
    printRows(rows)
    print("\(queues.count) queues")
}

func printRebuild(_ r: RebuildReport) {
    print("rebuilt the index from \(r.fromOffset) to \(r.validEnd): \(r.records) records in \(r.batches) batches, "
        + String(format: "%.2f s (%.0f msg/s)", r.seconds, r.recordsPerSecond))
    print("\(r.queues) queues; \(r.consumerOffsetsKept) consumer offsets kept")
    for d in r.damagedRanges { print("LOST (damaged, stepped over; the log is kept): \(d)") }
    if let bad = r.invalidRecord {
        print("stopped at a torn tail at \(bad.offset): \(bad.reason)")
        print("the broker's recovery will truncate the log at \(bad.offset) (nothing valid follows it)")
    }
}

/// A progress line's text: "37.5 % (offset 1048576 of 2796202), 12000 records, 48000 msg/s".
func describe(_ p: RebuildProgress) -> String {
    let percent = TerminalProgress.percent(Double(p.offset), of: Double(p.end))
    return "\(percent) (offset \(p.offset) of \(p.end)), \(p.records) records, \(Int(p.recordsPerSecond)) msg/s"
}
