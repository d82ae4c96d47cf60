import Benchmark
import Foundation
import TernMessage
import TernStorage
import TernSystem

// package-benchmark suite for regression tracking (wall clock, throughput, malloc count) of the store's hot
// paths. The ratio report against raw baselines is `tern-storage-bench` (Sources/TernStorageBench).
// Run: swift package --scratch-path .build-bench benchmark

/// One store per benchmark process, created in setup and removed in teardown.
final class Fixture: @unchecked Sendable {
    // @unchecked: set up before and torn down after the measured closures, which run one at a time.
    nonisolated(unsafe) static var current: Fixture?

    let root: String
    let store: MessageStore
    let drafts: [MessageDraft]
    var offsets: [Int64] = []
    var queues: [QueueKey] = []
    var next = 0

    init(preload: Int) throws {
        root = "/tmp/tern-package-benchmark-\(getpid())"
        try FileSystem.removeRecursively(root)
        var config = StoreConfig(root: root)
        config.segmentSize = 256 << 20
        store = try MessageStore.open(config).start()
        let host = HostAddress(ip: (127, 0, 0, 1), port: 10911)
        let properties = MessageProperties.encode([("TAGS", "TagA")])
        drafts = (0..<256).map { i in
            MessageDraft(topic: Array("BenchTopic".utf8), queueId: Int32(i % 8), bornTimestamp: Clock.wallMillis(),
                         bornHost: host, storeHost: host, body: [UInt8](repeating: UInt8(i), count: 128),
                         properties: properties)
        }
        for i in 0..<preload { offsets.append(try store.append(drafts[i % drafts.count]).physicalOffset) }
        _ = store.waitUntilDispatched(store.maxPhysicalOffset, timeoutMillis: 60_000)
        queues = try store.queues().keys.sorted()
    }

    static func setUp(preload: Int) throws { current = try Fixture(preload: preload) }

    static func tearDown() {
        guard let f = current else { return }
        f.store.close()
        try? FileSystem.removeRecursively(f.root)
        current = nil
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                           scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 1_000)

    Benchmark("append 128 B, async flush, indexes on (1k appends)",
              closure: { benchmark in
                  let f = Fixture.current!
                  for _ in benchmark.scaledIterations {
                      blackHole(try f.store.append(f.drafts[f.next % f.drafts.count]))
                      f.next += 1
                  }
              },
              setup: { try Fixture.setUp(preload: 0) },
              teardown: { Fixture.tearDown() })

    Benchmark("message(at:) from a warm map (1k reads)",
              closure: { benchmark in
                  let f = Fixture.current!
                  for _ in benchmark.scaledIterations {
                      blackHole(f.store.message(at: f.offsets[f.next % f.offsets.count])?.record.queueOffset)
                      f.next += 1
                  }
              },
              setup: { try Fixture.setUp(preload: 100_000) },
              teardown: { Fixture.tearDown() })

    Benchmark("getMessages maxCount 32 (1k calls)",
              closure: { benchmark in
                  let f = Fixture.current!
                  for _ in benchmark.scaledIterations {
                      let q = f.queues[f.next % f.queues.count]
                      let from = Int64((f.next / f.queues.count) * 32 % 12_000)
                      blackHole(try f.store.getMessages(q, from: from, maxCount: 32).messages.count)
                      f.next += 1
                  }
              },
              setup: { try Fixture.setUp(preload: 100_000) },
              teardown: { Fixture.tearDown() })
}
