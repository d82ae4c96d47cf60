import Foundation
import TernMessage
import TernStorage
import TernSystem

/// Scenario 1: append throughput with async flush and LMDB indexes, measured until the dispatcher has
/// indexed everything; baseline: memcpy of the same record bytes into a prefaulted mapped file plus LMDB
/// MDB_APPEND puts of as many consume-queue entries (12-byte key, 28-byte value), one transaction per 8,192.
enum AppendScenario {
    struct Outcome {
        var messages: Int
        var bytes: Int64
        var appendSeconds: Double
        var totalSeconds: Double
        /// CPU of the whole process over the measured span, and of the appending thread over the appends.
        var cpuSeconds: Double
        var appendThreadCPUSeconds: Double
        var cpuNanosPerMessage: Double { cpuSeconds * 1e9 / Double(messages) }
        var msgPerSecond: Double { Double(messages) / totalSeconds }
        var mbPerSecond: Double { Double(bytes) / totalSeconds / 1e6 }
    }

    static func run(report: Report, scratch: Scratch, store options: StoreOptions, messages: Int,
                    bodySizes: [Int], queues: Int, batch: Int, uniqueKeys: Bool) throws {
        for bodySize in bodySizes {
            let w = Workload(bodySize: bodySize, queues: queues, uniqueKeys: uniqueKeys)
            // Same byte volume for every body size (at least 50,000 messages).
            let record128 = Workload(bodySize: 128, queues: 1).recordSize
            let count = bodySize == 128 ? messages : max(50_000, messages * record128 / w.recordSize)
            let label = "append \(bodySize) B" + (uniqueKeys ? " +UNIQ_KEY" : "")
            report.say("\(label): \(count) messages of \(w.recordSize) B, \(queues) queues")
            let base = try baseline(scratch: scratch, workload: w, messages: count)
            let single = try store(scratch: scratch, options: options, workload: w, messages: count, batch: 1)
            add(report, label + ", 1 producer, single appends", single, base, bodySize: bodySize)
            if batch > 1 {
                let batched = try store(scratch: scratch, options: options, workload: w, messages: count, batch: batch)
                add(report, label + ", 1 producer, append(batch: \(batch))", batched, base, bodySize: bodySize)
            }
        }
    }

    private static func add(_ report: Report, _ scenario: String, _ o: Outcome, _ base: Outcome, bodySize: Int) {
        let ratio = o.msgPerSecond / base.msgPerSecond
        var target = "≥ 50 % of baseline"
        var met = ratio >= 0.5
        if bodySize == 128 {
            target = "≥ 2 M msg/s and ≥ 50 % of baseline"
            met = met && o.msgPerSecond >= 2_000_000
        }
        report.add(ResultRow(
            scenario: scenario, metric: "msg/s until indexed", value: o.msgPerSecond, unit: "msg/s",
            baseline: "memcpy into prefaulted mmap + LMDB MDB_APPEND", baselineValue: base.msgPerSecond,
            ratio: ratio, target: target, met: met,
            notes: String(format: "%.0f MB/s (baseline %.0f MB/s); appends alone %.0f msg/s, index lag %.0f ms",
                          o.mbPerSecond, base.mbPerSecond, Double(o.messages) / o.appendSeconds,
                          (o.totalSeconds - o.appendSeconds) * 1000)))
        // The same work as CPU per message (all threads: append, dispatch, prefault): a load-independent view.
        report.add(ResultRow(
            scenario: scenario, metric: "CPU ns/msg (process)", value: o.cpuNanosPerMessage, unit: "ns/msg",
            baseline: "memcpy into prefaulted mmap + LMDB MDB_APPEND", baselineValue: base.cpuNanosPerMessage,
            ratio: base.cpuNanosPerMessage / o.cpuNanosPerMessage, target: "≥ 50 % (baseline CPU / store CPU)",
            met: base.cpuNanosPerMessage / o.cpuNanosPerMessage >= 0.5,
            notes: String(format: "appending thread %.0f ns/msg (the append call), other threads %.0f ns/msg",
                          o.appendThreadCPUSeconds * 1e9 / Double(o.messages),
                          (o.cpuSeconds - o.appendThreadCPUSeconds) * 1e9 / Double(o.messages))))
    }

    static func store(scratch: Scratch, options: StoreOptions, workload w: Workload, messages: Int,
                      batch: Int) throws -> Outcome {
        let dir = try scratch.path("append")
        defer { scratch.remove(dir) }
        let store = try MessageStore.open(options.config(root: dir)).start()
        defer { store.close() }
        let start = store.maxPhysicalOffset
        let clock = Stopwatch()
        let cpu0 = CPUTime.process(), thread0 = CPUTime.thread()
        try w.append(messages, to: store, batch: batch)
        let appendSeconds = clock.seconds
        let threadCPU = CPUTime.thread() - thread0
        try store.waitForDispatch()
        let total = clock.seconds
        return Outcome(messages: messages, bytes: store.maxPhysicalOffset - start, appendSeconds: appendSeconds,
                       totalSeconds: total, cpuSeconds: CPUTime.process() - cpu0, appendThreadCPUSeconds: threadCPU)
    }

    /// memcpy of the encoded records, record by record, into a prefaulted mapping, and for each batch of 8,192
    /// one LMDB write transaction of MDB_APPEND puts (keys in append order) plus a checkpoint put.
    static func baseline(scratch: Scratch, workload w: Workload, messages: Int) throws -> Outcome {
        let dir = try scratch.path("append-baseline")
        try FileSystem.createDirectory(dir)
        defer { scratch.remove(dir) }
        let records: [[UInt8]] = w.pool.map { $0.encoded(queueOffset: 0, physicalOffset: 0, storeTimestamp: Clock.wallMillis()) }
        var total = 0
        for i in 0..<messages { total += records[i % records.count].count }
        let page = MappedFile.pageSize
        let file = try MappedFile.open(path: dir + "/log", size: (total + page - 1) / page * page, create: true)
        file.prefault(0..<file.size)  // not timed: the store prefaults ahead of its writer too
        let env = try LMDBEnvironment(path: dir + "/index", mapSize: 1 << 40, maxDatabases: 4, flags: [.noSync])
        defer { env.close() }
        let cq = try env.openDatabase("cq", [.create])
        let meta = try env.openDatabase("meta", [.create])
        let destination = file.mutableBytes(0..<file.size)
        var key = [UInt8](repeating: 0, count: 12)
        var value = [UInt8](repeating: 0, count: 28)
        let checkpointKey = Array("checkpoint".utf8)
        let clock = Stopwatch()
        let cpu0 = CPUTime.process()
        var position = 0
        var seq = 0
        while seq < messages {
            let n = min(8_192, messages - seq)
            let batchStart = position
            for k in 0..<n {
                let r = records[(seq + k) % records.count]
                r.withUnsafeBytes { src in
                    (destination.baseAddress! + position).copyMemory(from: src.baseAddress!, byteCount: src.count)
                }
                position += r.count
            }
            try env.write { t in
                var phys = batchStart
                for k in 0..<n {
                    let size = records[(seq + k) % records.count].count
                    key.withUnsafeMutableBytes { kb in
                        kb.storeBytes(of: UInt32(1).bigEndian, toByteOffset: 0, as: UInt32.self)
                        kb.storeBytes(of: UInt64(seq + k).bigEndian, toByteOffset: 4, as: UInt64.self)
                    }
                    value.withUnsafeMutableBytes { vb in
                        vb.storeBytes(of: UInt64(phys).bigEndian, toByteOffset: 0, as: UInt64.self)
                        vb.storeBytes(of: UInt32(size).bigEndian, toByteOffset: 8, as: UInt32.self)
                        vb.storeBytes(of: UInt64(0x1234).bigEndian, toByteOffset: 12, as: UInt64.self)
                        vb.storeBytes(of: UInt64(1_700_000_000_000).bigEndian, toByteOffset: 20, as: UInt64.self)
                    }
                    try key.withUnsafeBytes { kb in try value.withUnsafeBytes { vb in _ = try t.put(cq, kb, vb, .append) } }
                    phys += size
                }
                var cp = [UInt8](repeating: 0, count: 16)
                cp.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(position).bigEndian, toByteOffset: 0, as: UInt64.self) }
                _ = try t.put(meta, checkpointKey, cp)
            }
            seq += n
        }
        let seconds = clock.seconds
        let cpu = CPUTime.process() - cpu0
        return Outcome(messages: messages, bytes: Int64(position), appendSeconds: seconds, totalSeconds: seconds,
                       cpuSeconds: cpu, appendThreadCPUSeconds: cpu)
    }
}
