import Foundation
import Synchronization
import Testing
import TernChecksum
import TernMessage
import TernSystem
@testable import TernStorage

/// Really kills (SIGKILL) a child process that appends from several threads, at random points, then reopens
/// the store: every acknowledged record must be present byte-for-byte (size, body CRC, queue, offset) and
/// indexed; the log must hold only whole, valid records after recovery.
@Suite("Crash: kill -9 while appending", .serialized)
struct CrashTests {
    struct Ack: Hashable {
        var physicalOffset: Int64, size: Int, bodyCRC: UInt32, queueId: Int32, queueOffset: Int64, key: String
    }

    static var childPath: String {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        if dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("TernCrashChild").path
    }

    /// Runs the child until it has printed `acks` acknowledgements, kills it, returns every ack it printed.
    static func runAndKill(store: String, mode: String, seed: UInt64, acks: Int, extra: [String] = []) throws -> [Ack] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: childPath)
        p.arguments = [store, mode, String(seed), "4"] + extra
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let lines = Mutex<[String]>([])
        let reader = pipe.fileHandleForReading
        var pending = ""
        let deadline = Date().addingTimeInterval(30)
        while lines.withLock({ $0.filter { $0.hasPrefix("ACK") }.count }) < acks, Date() < deadline {
            let data = reader.availableData
            if data.isEmpty { break }
            pending += String(decoding: data, as: UTF8.self)
            var parts = pending.components(separatedBy: "\n")
            pending = parts.removeLast()
            lines.withLock { $0 += parts }
        }
        try ProcessSignals.killHard(p.processIdentifier)
        p.waitUntilExit()
        pending += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        var all = lines.withLock { $0 }
        all += pending.components(separatedBy: "\n").dropLast()  // a last line without "\n" was never acknowledged
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        #expect(!all.contains { $0.hasPrefix("ERR") }, "child reported errors: \(all.filter { $0.hasPrefix("ERR") }.prefix(3))")
        return all.filter { $0.hasPrefix("ACK ") }.map { line in
            let f = line.split(separator: " ")
            return Ack(physicalOffset: Int64(f[1])!, size: Int(f[2])!, bodyCRC: UInt32(f[3])!, queueId: Int32(f[4])!,
                       queueOffset: Int64(f[5])!, key: String(f[6]))
        }
    }

    /// The child's store layout.
    static func childConfig(_ dir: TempDir) -> StoreConfig {
        var config = StoreConfig(root: dir.path)
        config.segmentSize = 256 * 1024
        config.maxMessageSize = 16 * 1024
        config.prefaultSegments = false
        config.lmdbMapSize = 1 << 30
        return config
    }

    static func checkAll(_ acks: [Ack], in dir: TempDir) throws {
        let store = try MessageStore.open(childConfig(dir)).start()
        defer { store.close() }
        for a in acks {
            let m = try #require(store.message(at: a.physicalOffset), "acknowledged record at \(a.physicalOffset) is missing")
            #expect(m.size == a.size)
            #expect(CRC32.rocketmqBodyCRC(m.record.body) == a.bodyCRC)
            #expect(m.record.queueId == a.queueId && m.record.queueOffset == a.queueOffset)
            let q = QueueKey(topic: "CrashTopic", queueId: a.queueId)
            let entry = try store.index.entries(q, from: a.queueOffset, maxCount: 1).first
            #expect(entry?.physicalOffset == a.physicalOffset, "queue entry \(q)@\(a.queueOffset) not indexed")
        }
        // Spot-check the key index on a sample.
        for a in acks.prefix(20) {
            #expect(try store.lookup(topic: "CrashTopic", key: a.key).map(\.physicalOffset) == [a.physicalOffset])
        }
        // Whatever survived is whole and valid, and the queues are dense.
        var count = 0
        let (end, stop) = store.log.walk(from: store.minPhysicalOffset, limit: store.maxPhysicalOffset, checkCRC: true) { _, _ in
            count += 1; return true
        }
        #expect(end == store.maxPhysicalOffset && stop == .endOfLog)
        #expect(count >= acks.count)
        let queued = try store.queues().values.reduce(0) { $0 + Int($1.max - $1.min) }
        #expect(queued == count)
    }

    /// "sync-warm": sync flush with the log written back ahead of the writer (warmMappedFile) while it is killed;
    /// "sync-through": sync flush with records written into the log by pwrite (writeThrough).
    @Test(arguments: ["sync", "async", "sync-warm", "sync-through"])
    func acknowledgedRecordsSurviveKill9(_ mode: String) throws {
        let dir = TempDir("crash-\(mode)"); defer { dir.cleanup() }
        var all: [Ack] = []
        var seed: UInt64 = ["sync": 1, "async": 1001, "sync-warm": 2001, "sync-through": 3001][mode]!
        for round in 0..<4 {
            let acks = try Self.runAndKill(store: dir.path, mode: mode, seed: seed, acks: [30, 400, 120, 900][round])
            #expect(acks.count >= 30)
            all += acks
            try Self.checkAll(all, in: dir)
            seed += 1
        }
    }
}
