import Foundation
import Synchronization
import TernMessage
import TernStorage
import TernSystem

/// Scenario 2: sync flush with group commit, 1 KiB bodies, 64 concurrent appenders (tasks calling
/// `appendDurably`); baseline: the same record bytes written with write(2) + fdatasync(2) in chunks of one
/// record per appender (the group a full round commits), and, for reference, 1 MiB chunks.
enum SyncScenario {
    static func run(report: Report, scratch: Scratch, store options: StoreOptions, seconds: Double,
                    appenders: Int, bodySize: Int) async throws {
        let w = Workload(bodySize: bodySize, queues: appenders)
        report.say("sync flush: \(appenders) appenders, \(w.recordSize) B records, \(seconds) s each")
        let rounds = FlushRounds()
        let (storeMessages, storeBytes, storeSeconds) = try await store(scratch: scratch, options: options, workload: w,
                                                                        seconds: seconds, appenders: appenders, rounds: rounds)
        let (msyncs, msyncNanos) = rounds.totals
        let chunkRecords = appenders
        let (baseBytes, baseSyncs, baseSeconds) = try baseline(scratch: scratch, workload: w, chunkRecords: chunkRecords,
                                                               seconds: seconds)
        let storeMB = Double(storeBytes) / storeSeconds / 1e6
        let baseMB = Double(baseBytes) / baseSeconds / 1e6
        report.add(ResultRow(
            scenario: "sync flush, \(bodySize) B, \(appenders) appenders (appendDurably)", metric: "MB/s durable",
            value: storeMB, unit: "MB/s",
            baseline: "write+fdatasync of \(chunkRecords)-record chunks", baselineValue: baseMB,
            ratio: storeMB / baseMB, target: "≥ 80 % of baseline", met: storeMB / baseMB >= 0.8,
            notes: String(format: "%.0f msg/s, %.1f records and %.2f ms per msync (%d rounds); baseline %.0f msg/s, %.2f ms per write+fdatasync",
                          Double(storeMessages) / storeSeconds, Double(storeMessages) / Double(max(1, msyncs)),
                          Double(msyncNanos) / 1e6 / Double(max(1, msyncs)), msyncs,
                          Double(baseBytes / w.recordSize) / baseSeconds, baseSeconds * 1000 / Double(baseSyncs))))
        let (bigBytes, bigSyncs, bigSeconds) = try baseline(scratch: scratch, workload: w,
                                                            chunkRecords: max(1, (1 << 20) / w.recordSize), seconds: seconds)
        let bigMB = Double(bigBytes) / bigSeconds / 1e6
        report.add(ResultRow(
            scenario: "sync flush, \(bodySize) B, \(appenders) appenders (appendDurably)", metric: "MB/s durable",
            value: storeMB, unit: "MB/s", baseline: "write+fdatasync of 1 MiB chunks", baselineValue: bigMB,
            ratio: storeMB / bigMB, target: nil, met: nil,
            notes: String(format: "disk reference: %.2f ms per 1 MiB write+fdatasync", bigSeconds * 1000 / Double(bigSyncs))))
    }

    static func store(scratch: Scratch, options: StoreOptions, workload w: Workload, seconds: Double,
                      appenders: Int, rounds: FlushRounds) async throws -> (messages: Int, bytes: Int64, seconds: Double) {
        let dir = try scratch.path("sync")
        defer { scratch.remove(dir) }
        var config = options.config(root: dir, flush: .sync(timeoutMillis: 30_000))
        config.observer = rounds
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let start = store.maxPhysicalOffset
        let deadline = Clock.monotonicNanos() + UInt64(seconds * 1e9)
        let clock = Stopwatch()
        let messages = try await withThrowingTaskGroup(of: Int.self) { group in
            for a in 0..<appenders {
                group.addTask {
                    var n = 0
                    while Clock.monotonicNanos() < deadline {
                        _ = try await store.appendDurably(w.draft(a + n * appenders))
                        n += 1
                    }
                    return n
                }
            }
            var total = 0
            for try await n in group { total += n }
            return total
        }
        let elapsed = clock.seconds
        return (messages, store.flushedOffset - start, elapsed)
    }

    /// write+fdatasync loop over chunks of `chunkRecords` encoded records for `seconds`.
    static func baseline(scratch: Scratch, workload w: Workload, chunkRecords: Int, seconds: Double) throws
        -> (bytes: Int, syncs: Int, seconds: Double)
    {
        let dir = try scratch.path("sync-baseline")
        try FileSystem.createDirectory(dir)
        defer { scratch.remove(dir) }
        var chunk: [UInt8] = []
        for i in 0..<chunkRecords {
            chunk += w.draft(i).encoded(queueOffset: Int64(i), physicalOffset: 0, storeTimestamp: Clock.wallMillis())
        }
        let file = try AppendFile.create(path: dir + "/data")
        defer { file.close() }
        let deadline = Clock.monotonicNanos() + UInt64(seconds * 1e9)
        let clock = Stopwatch()
        var syncs = 0
        while Clock.monotonicNanos() < deadline {
            try chunk.withUnsafeBytes { try file.append($0) }
            try file.syncData()
            syncs += 1
        }
        return (file.size, syncs, clock.seconds)
    }
}

/// Counts the store's msync rounds (how many records one group commit carried: the scenario's appenders at best).
final class FlushRounds: StoreObserver {
    private let rounds = Atomic<Int>(0)
    private let nanos = Atomic<UInt64>(0)
    var totals: (rounds: Int, nanos: UInt64) { (rounds.load(ordering: .relaxed), nanos.load(ordering: .relaxed)) }
    func flushed(bytes: Int64, nanos: UInt64) {
        rounds.add(1, ordering: .relaxed)
        self.nanos.add(nanos, ordering: .relaxed)
    }
    func dispatched(records: Int, nanos: UInt64) {}
}
