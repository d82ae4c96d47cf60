import Foundation
import TernMessage
import TernStorage
import TernSystem

/// Scenario 3: reads from a warm map — `message(at:)` over every record, and `getMessages` over every queue
/// with maxCount 32; baseline: walking the same records with `RecordScanner` straight over the mapped bytes.
enum ReadScenario {
    static func run(report: Report, scratch: Scratch, store options: StoreOptions, messages: Int, queues: Int,
                    rounds: Int) throws {
        let w = Workload(bodySize: 128, queues: queues)
        report.say("reads: \(messages) messages of \(w.recordSize) B over \(queues) queues, best of \(rounds) rounds")
        let dir = try scratch.path("read")
        defer { scratch.remove(dir) }
        let store = try MessageStore.open(options.config(root: dir)).start()
        defer { store.close() }
        var offsets: [Int64] = []
        offsets.reserveCapacity(messages)
        for i in 0..<messages { offsets.append(try store.append(w.draft(i)).physicalOffset) }
        try store.waitForDispatch()
        let queueKeys = try store.queues().keys.sorted()

        var scanRate = 0.0, byOffsetRate = 0.0, queueRate = 0.0
        var sink: Int64 = 0
        for _ in 0...rounds {  // round 0 warms the map and the index
            let (n1, s1) = timed { walk(store, &sink) }
            let (n2, s2) = timed { byOffset(store, offsets, &sink) }
            let (n3, s3) = try timed { try scanQueues(store, queueKeys, &sink) }
            guard n1 == messages, n2 == messages, n3 == messages else {
                throw BenchError.failed("read counts differ: walk \(n1), by offset \(n2), queues \(n3), expected \(messages)")
            }
            scanRate = max(scanRate, Double(n1) / s1)
            byOffsetRate = max(byOffsetRate, Double(n2) / s2)
            queueRate = max(queueRate, Double(n3) / s3)
        }
        if sink == 42 { print("") }  // keeps the reads observable
        let baseline = "RecordScanner walk over the map"
        report.add(ResultRow(scenario: "read by offset, message(at:)", metric: "msg/s", value: byOffsetRate, unit: "msg/s",
                             baseline: baseline, baselineValue: scanRate, ratio: byOffsetRate / scanRate,
                             target: "≥ 5 M msg/s", met: byOffsetRate >= 5_000_000, notes: nil))
        report.add(ResultRow(scenario: "queue scan, getMessages maxCount 32", metric: "msg/s", value: queueRate, unit: "msg/s",
                             baseline: baseline, baselineValue: scanRate, ratio: queueRate / scanRate,
                             target: "≥ 5 M msg/s", met: queueRate >= 5_000_000,
                             notes: "\(queueKeys.count) queues, \(messages / max(1, queueKeys.count)) messages each"))
    }

    private static func timed(_ body: () throws -> Int) rethrows -> (Int, Double) {
        let clock = Stopwatch()
        let n = try body()
        return (n, clock.seconds)
    }

    /// Every record of every segment, validated (no CRC) by the scanner; reads one field of each.
    static func walk(_ store: MessageStore, _ sink: inout Int64) -> Int {
        var count = 0
        let limit = store.maxPhysicalOffset
        let maxRecord = store.config.maxRecordSize
        for seg in store.segments where seg.base < limit {
            let bytes = seg.file.bytes(0..<Int(min(seg.end, limit) - seg.base))
            var local = 0
            scan: while local < bytes.count {
                switch RecordScanner.scan(bytes, at: local, checkCRC: false, maxRecordSize: maxRecord) {
                case let .record(size):
                    sink &+= RecordView(UnsafeRawBufferPointer(rebasing: bytes[local..<(local + size)])).queueOffset
                    count += 1
                    local += size
                default:
                    break scan
                }
            }
        }
        return count
    }

    static func byOffset(_ store: MessageStore, _ offsets: [Int64], _ sink: inout Int64) -> Int {
        var count = 0
        for o in offsets {
            if let m = store.message(at: o) {
                sink &+= m.record.queueOffset
                count += 1
            }
        }
        return count
    }

    static func scanQueues(_ store: MessageStore, _ queues: [QueueKey], _ sink: inout Int64) throws -> Int {
        var count = 0
        for q in queues {
            var next: Int64 = 0
            while true {
                let r = try store.getMessages(q, from: next, maxCount: 32)
                if r.messages.isEmpty { break }
                for m in r.messages { sink &+= m.record.queueOffset }
                count += r.messages.count
                next = r.nextBeginOffset
            }
        }
        return count
    }
}
