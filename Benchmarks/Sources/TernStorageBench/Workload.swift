import Foundation
import TernMessage
import TernStorage
import TernSystem

/// Messages the scenarios append: a pool of drafts with random bodies (so CRCs are real), cycled.
struct Workload {
    static let topic = Array("BenchTopic".utf8)
    static let host = HostAddress(ip: (127, 0, 0, 1), port: 10911)

    let bodySize: Int
    let queues: Int
    /// Drafts with queue ids assigned round-robin; `draft(i)` cycles through them.
    let pool: [MessageDraft]

    /// `uniqueKeys`: every pooled draft carries a distinct UNIQ_KEY (as RocketMQ clients set), so the
    /// dispatcher also writes the unique-key index; the pool is then large so keys rarely repeat.
    init(bodySize: Int, queues: Int, uniqueKeys: Bool = false, seed: UInt64 = 42) {
        self.bodySize = bodySize
        self.queues = max(1, queues)
        var rng = SplitMix64(seed: seed)
        let count = uniqueKeys ? 65_536 : 1_024
        var drafts: [MessageDraft] = []
        drafts.reserveCapacity(count)
        let now = Clock.wallMillis()
        for i in 0..<count {
            var body = [UInt8](repeating: 0, count: bodySize)
            for j in 0..<bodySize { body[j] = UInt8(truncatingIfNeeded: rng.next()) }
            var props: [(String, String)] = [("TAGS", "TagA")]
            if uniqueKeys {
                props.append(("UNIQ_KEY", String(format: "7F000001%08X%016llX", i, rng.next())))
            }
            drafts.append(MessageDraft(topic: Self.topic, queueId: Int32(i % self.queues), bornTimestamp: now,
                                       bornHost: Self.host, storeHost: Self.host, body: body,
                                       properties: MessageProperties.encode(props)))
        }
        pool = drafts
    }

    @inline(__always)
    func draft(_ i: Int) -> MessageDraft { pool[i % pool.count] }

    var recordSize: Int { pool[0].encodedSize }

    /// The pool cut into batches of `size` (for `append(batch:)`), cycled like single drafts.
    func batches(of size: Int) -> [[MessageDraft]] {
        stride(from: 0, to: pool.count - size + 1, by: size).map { Array(pool[$0..<($0 + size)]) }
    }
}

/// Small deterministic generator (benchmarks must be reproducible).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where stores live during a run; removed afterwards unless `keep`.
final class Scratch: @unchecked Sendable {
    // @unchecked: immutable after init.
    let root: String
    let keep: Bool

    init(parent: String, keep: Bool) throws {
        root = parent + "/tern-bench-\(getpid())"
        self.keep = keep
        try FileSystem.removeRecursively(root)
        try FileSystem.createDirectory(root)
    }

    func path(_ name: String) throws -> String {
        let p = root + "/" + name
        try FileSystem.removeRecursively(p)
        return p
    }

    func remove(_ path: String) {
        if !keep { try? FileSystem.removeRecursively(path) }
    }

    func cleanUp() {
        if !keep { try? FileSystem.removeRecursively(root) }
    }
}

/// CPU time (user + system) in seconds, of the whole process or of the calling thread. On a shared machine the
/// CPU a scenario spends per message moves far less with other load than its wall-clock rate does.
enum CPUTime {
    static func process() -> Double { read(CLOCK_PROCESS_CPUTIME_ID) }
    static func thread() -> Double { read(CLOCK_THREAD_CPUTIME_ID) }
    private static func read(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// Monotonic stopwatch in seconds.
struct Stopwatch {
    private let start = Clock.monotonicNanos()
    var seconds: Double { Double(Clock.monotonicNanos() - start) / 1e9 }
    var millis: Double { seconds * 1000 }
}

/// Store configuration shared by the scenarios.
struct StoreOptions: Sendable {
    var segmentMiB: Int = 1024
    var prefault: Bool = true
    var warm: Bool = false
    var writeThrough: Bool = false

    func config(root: String, flush: StoreConfig.FlushMode = .defaultAsync) -> StoreConfig {
        var c = StoreConfig(root: root)
        c.segmentSize = segmentMiB << 20
        c.flushMode = flush
        c.indexBackend = .lmdb
        c.prefaultSegments = prefault
        c.warmMappedFile = warm
        c.writeThrough = writeThrough
        return c
    }
}

enum BenchError: Error, CustomStringConvertible {
    case failed(String)
    var description: String { if case let .failed(s) = self { return s }; return "" }
}

extension MessageStore {
    /// Waits (up to a generous timeout) until the indexes cover everything appended.
    func waitForDispatch() throws {
        guard waitUntilDispatched(maxPhysicalOffset, timeoutMillis: 600_000) else {
            throw BenchError.failed("dispatcher did not catch up")
        }
    }
}

extension Workload {
    /// Appends `messages` drafts to `store`, one per call (`batch` <= 1) or `batch` per `append(batch:)`.
    func append(_ messages: Int, to store: MessageStore, batch: Int) throws {
        if batch <= 1 {
            for i in 0..<messages { _ = try store.append(draft(i)) }
            return
        }
        let batches = batches(of: batch)
        var done = 0, b = 0
        while done < messages {
            var chunk = batches[b % batches.count]
            if messages - done < chunk.count { chunk.removeLast(chunk.count - (messages - done)) }
            _ = try store.append(batch: chunk)
            done += chunk.count
            b += 1
        }
    }
}
