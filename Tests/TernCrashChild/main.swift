// Crash-test child: appends messages to a store until it is killed, printing one line per acknowledged
// append: "ACK <physicalOffset> <size> <bodyCRC> <queueId> <queueOffset>". With sync flush an append is
// acknowledged only after the group commit made it durable.
//
// usage: TernCrashChild <storeDir> <sync|sync-warm|sync-through|async> <seed> <threads> [mixed]
// "mixed": delay levels 2 s, 7 s, 11 s and every fourth record in the schedule topic (replay identity tests).
//
// usage: TernCrashChild threads <storeDir>: opens the store, prints "OPENED <thread names>", starts it, prints
// "STARTED <thread names>" (start called twice; names from /proc/self/task/*/comm, comma-separated), closes it and exits.
import Foundation
import Synchronization
import TernMessage
import TernStorage
import TernTestSupport

let args = CommandLine.arguments
if args.count == 3, args[1] == "threads" {
    // Each thread's name and scheduling policy (field 41 of /proc/self/task/TID/stat: the 39th after the ")" of
    // its name), in one pass over /proc.
    func threads() -> [(name: String, policy: Substring?)] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { tid in
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8) else { return nil }
            let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8)
            let fields = stat.flatMap { s in s.lastIndex(of: ")").map { s[s.index(after: $0)...].split(separator: " ") } }
            return (comm.trimmingCharacters(in: .whitespacesAndNewlines), fields.flatMap { $0.count > 38 ? $0[38] : nil })
        }
    }
    func threadNames(_ all: [(name: String, policy: Substring?)]) -> String {
        all.map(\.name).sorted().joined(separator: ",")
    }
    let names = ["tern-dispatch", "tern-flush", "tern-housekeep", "tern-prefault"]
    func policies(_ all: [(name: String, policy: Substring?)]) -> String {
        all.compactMap { t in t.policy.flatMap { names.contains(t.name) ? "\(t.name)=\($0)" : nil } }.sorted()
            .joined(separator: ",")
    }
    let store = try MessageStore.open(StoreConfig(root: args[2]))
    print("OPENED " + threadNames(threads()))
    store.start()
    store.start()  // idempotent: no second set of threads
    // Threads name themselves (and the prefault thread lowers its class) once running: wait, bounded.
    let deadline = Date().addingTimeInterval(10)
    var seen = threads()
    while Date() < deadline, names.contains(where: { name in !seen.contains { $0.name == name } })
        || !policies(seen).contains("tern-prefault=5") {
        Thread.sleep(forTimeInterval: 0.005)
        seen = threads()
    }
    print("STARTED " + threadNames(seen))
    print("POLICIES " + policies(seen))
    store.close()
    exit(0)
}
guard args.count == 5 || args.count == 6, let seed = UInt64(args[3]), let threads = Int(args[4]) else {
    FileHandle.standardError.write("usage: TernCrashChild <storeDir> <sync|sync-warm|sync-through|async> <seed> <threads>\n".data(using: .utf8)!)
    exit(2)
}
var config = StoreConfig(root: args[1])
config.segmentSize = 256 * 1024  // many segment rolls
config.maxMessageSize = 16 * 1024
config.flushMode = args[2].hasPrefix("sync") ? .defaultSync : .defaultAsync
// "sync-warm": the prefault thread writes the log back ahead of the writer (warmMappedFile) while it is killed.
// "sync-through": records are written into the log with pwrite, not through the mapping (writeThrough).
config.prefaultSegments = args[2] == "sync-warm" || args[2] == "sync-through"
config.warmMappedFile = args[2] == "sync-warm"
config.writeThrough = args[2] == "sync-through"
config.prefaultWindowBytes = 64 * 1024
config.lmdbMapSize = 1 << 30
let mixed = args.count == 6 && args[5] == "mixed"
if mixed { config.delayLevelMillis = [2_000, 7_000, 11_000] }
let store = try MessageStore.open(config).start()
/// Unbuffered write of one line (a buffered line could die with the process after being "acknowledged").
@Sendable func emit(_ line: String) { FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!) }
emit("READY \(store.recovery.validEnd)")

let output = Mutex(())
let host = HostAddress(ip: (127, 0, 0, 1), port: 10911)
let group = DispatchGroup()
for t in 0..<threads {
    group.enter()
    Thread.detachNewThread {
        var rng = SplitMix64(seed: seed &+ UInt64(t) &* 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 { rng.next() }
        var n = 0
        while true {
            let size = Int(next() % 3000) + 1
            let body = (0..<size).map { _ in UInt8(truncatingIfNeeded: next()) }
            let queueId = Int32(next() % 4)
            let props = MessageProperties.encode([("KEYS", "s\(seed)-t\(t)-\(n)"), ("UNIQ_KEY", String(format: "%08X%024X", t, n))])
            let topic = mixed && n % 4 == 3 ? "SCHEDULE_TOPIC_XXXX" : "CrashTopic"
            let d = MessageDraft(topic: Array(topic.utf8), queueId: queueId, bornTimestamp: 0, bornHost: host,
                                 storeHost: host, body: body, properties: props)
            do {
                let r = try store.appendDurablyBlocking(d)
                output.withLock { _ in emit("ACK \(r.physicalOffset) \(r.size) \(d.bodyCRC) \(queueId) \(r.queueOffset) s\(seed)-t\(t)-\(n)") }
            } catch {
                output.withLock { _ in emit("ERR \(error)") }
            }
            n += 1
        }
    }
}
group.wait()
