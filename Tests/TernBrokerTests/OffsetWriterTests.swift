import Foundation
import Logging
import Synchronization
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport
import Testing

/// Consumer offset commits are batched off the event loops: visible at once, written by the writer service,
/// written at a graceful stop, and only the unwritten ones lost in a crash.
@Suite struct OffsetWriterTests {
    /// `segmentSize`: the broker fixture's when reopening its store.
    private static func openStore(_ dir: String, segmentSize: Int = 1 << 20) throws -> MessageStore {
        try startSmallStore(dir, segmentSize: segmentSize)
    }

    private static func queue(_ id: Int32) -> QueueKey { QueueKey(topic: "T", queueId: id) }

    /// The window of a crash, made exact: what a batch wrote survives, what was pending is lost. (A closed
    /// store keeps exactly what a `kill -9` keeps: LMDB commits are in the page cache either way.)
    @Test func aCrashLosesOnlyTheUnwrittenCommits() throws {
        let dir = NSTemporaryDirectory() + "tern-offsets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.openStore(dir)
        let offsets = OffsetService(store: store, logger: Logger(label: "test"))
        offsets.commit(group: "G", queue: Self.queue(1), offset: 10)
        // Pending: queries see it, the store does not have it yet (no LMDB write on the caller's thread).
        #expect(offsets.committed(group: "G", queue: Self.queue(1)) == 10)
        #expect(try store.consumerOffset(group: "G", queue: Self.queue(1)) == nil)
        #expect(offsets.writePending())
        #expect(try store.consumerOffset(group: "G", queue: Self.queue(1)) == 10)

        offsets.commit(group: "G", queue: Self.queue(1), offset: 11)
        offsets.commit(group: "G", queue: Self.queue(2), offset: 20)
        offsets.commit(group: "G", queue: Self.queue(2), offset: 21)
        #expect(offsets.committed(group: "G", queue: Self.queue(2)) == 21)
        #expect(offsets.all()[ConsumerOffsetKey(group: "G", queue: Self.queue(1))] == 11)
        store.close()

        let again = try Self.openStore(dir)
        #expect(try again.consumerOffset(group: "G", queue: Self.queue(1)) == 10)
        #expect(try again.consumerOffset(group: "G", queue: Self.queue(2)) == nil)
        again.close()
    }

    @Test func oneBatchWritesEveryPendingCommitWithTheLastValue() throws {
        let dir = NSTemporaryDirectory() + "tern-offsets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Self.openStore(dir)
        let offsets = OffsetService(store: store, logger: Logger(label: "test"))
        for id in Int32(0)..<64 {
            for value in Int64(0)..<3 { offsets.commit(group: "G", queue: Self.queue(id), offset: Int64(id) * 10 + value) }
        }
        #expect(try store.consumerOffsets().isEmpty)
        #expect(offsets.writePending())
        let stored = try store.consumerOffsets()
        #expect(stored.count == 64)
        #expect(stored.allSatisfy { $0.value == Int64($0.key.queue.queueId) * 10 + 2 })
        store.close()
    }

    /// A stream of commits costs one write per window: the first commit after a quiet spell is written at once,
    /// one made within `coalesceMillis` of that batch waits for the window's end (the test moves the broker's
    /// clock instead of sleeping). Queries see it meanwhile.
    @Test func commitsWithinAWindowAreWrittenWhenItEnds() async throws {
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let f = try await BrokerFixture.start { $0.clock = clock }
        let offsets = f.broker.context.offsets
        let writer = try #require(f.broker.timer(named: "offset-writer"))
        let q = Self.queue(0)
        offsets.commit(group: "G", queue: q, offset: 1)
        #expect(await eventually { (try? f.broker.store.consumerOffset(group: "G", queue: q)) == 1 })
        #expect(await eventually { writer.stepsCompleted.load(ordering: .acquiring) >= 2 })  // start, then the batch
        let before = writer.stepsCompleted.load(ordering: .acquiring)
        offsets.commit(group: "G", queue: q, offset: 2)
        // The commit woke the writer; its step ran and went back to sleep until the window ends.
        #expect(await eventually { writer.stepsCompleted.load(ordering: .acquiring) > before })
        #expect(try f.broker.store.consumerOffset(group: "G", queue: q) == 1)
        #expect(offsets.committed(group: "G", queue: q) == 2)
        try await f.advance(clock, millis: OffsetService.coalesceMillis, runningTimer: "offset-writer")
        #expect(await eventually { (try? f.broker.store.consumerOffset(group: "G", queue: q)) == 2 })
        await f.stop()
    }

    /// Through the broker: acknowledged commits (UPDATE_CONSUMER_OFFSET and the pull's commit flag) reach the
    /// store without a stop, and every one of a burst sent right before a graceful stop is there after restart.
    @Test func committedOffsetsSurviveAGracefulRestart() async throws {
        let f = try await BrokerFixture.start()
        let dir = f.storeDir
        try f.createTopic("T", queues: 8)
        let first = try await f.call(RequestCode.updateConsumerOffset,
                                     ["consumerGroup": "G", "topic": "T", "queueId": "0", "commitOffset": "3"])
        #expect(first.code == ResponseCode.success)
        #expect(await eventually { (try? f.broker.store.consumerOffset(group: "G", queue: Self.queue(0))) == 3 })

        let c = try await f.connect()
        for id in 0..<8 {
            for value in 0..<5 {
                let r = try await f.call(RequestCode.updateConsumerOffset, ["consumerGroup": "H", "topic": "T",
                                         "queueId": String(id), "commitOffset": String(id * 100 + value)], on: c)
                #expect(r.code == ResponseCode.success)
            }
        }
        _ = try await f.pull("T", queueId: 7, offset: 0, group: "P", sysFlag: 1 | 4, commitOffset: 9)
        c.close()
        await f.stop(keepStore: true)

        let store = try Self.openStore(dir, segmentSize: 64 << 20)
        defer {
            store.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
        for id in Int32(0)..<8 {
            #expect(try store.consumerOffset(group: "H", queue: Self.queue(id)) == Int64(id) * 100 + 4)
        }
        #expect(try store.consumerOffset(group: "P", queue: Self.queue(7)) == 9)
        #expect(try store.consumerOffset(group: "G", queue: Self.queue(0)) == 3)
    }
}
