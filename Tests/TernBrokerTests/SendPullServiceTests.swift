import NIOCore
import NIOPosix
import Synchronization
@testable import TernBroker
import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// The typed send and pull services called directly, without any remoting connection: a recording waiter
/// stands in for the transport.
@Suite struct SendPullServiceTests {
    /// A pull's way back that records what it is given.
    final class RecordingWaiter: PullWaiter {
        let eventLoop: any EventLoop
        let channelId = -1
        let outcomes = Mutex<[PullOutcome]>([])

        init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

        func deliver(_ outcome: PullOutcome) { outcomes.withLock { $0.append(outcome) } }
        var count: Int { outcomes.withLock { $0.count } }
        var last: PullOutcome? { outcomes.withLock { $0.last } }
    }

    static func request(_ topic: String, queueId: Int32 = 0, body: String, properties: [(String, String)] = []) throws -> SendRequest {
        let fields = SendFrames.javaFields(topic: topic, queueId: queueId, properties: SendFrames.properties(properties))
        let header = try SendRequestHeader(fields, names: SendRequestHeader.javaNames)
        return SendRequest(header: header, isBatch: false, body: ByteBuffer(string: body), producerAddress: "10.0.0.1:4000")
    }

    static func pull(_ topic: String, queueId: Int32 = 0, offset: Int64, suspendMillis: Int64 = 0) -> PullRequest {
        let flags = PullRequestHeader.flagSubscription | (suspendMillis > 0 ? PullRequestHeader.flagSuspend : 0)
        return PullRequest(header: PullRequestHeader(
            consumerGroup: "CG", topic: topic, queueId: queueId, queueOffset: offset, maxMsgNums: 32, sysFlag: flags,
            commitOffset: -1, suspendTimeoutMillis: suspendMillis, subscription: "*", subVersion: 0, expressionType: nil),
                           consumerAddress: "10.0.0.2:5000")
    }

    /// A transport's view of answers held until the task ends: an answer delivered while nothing is held is one
    /// write; answers delivered while held share the one write made when the task ends.
    final class WriteCountingWaiter: PullWaiter {
        let eventLoop: any EventLoop
        let channelId = -2
        private let state = Mutex<(holding: Bool, unwritten: Bool, delivered: Int, writes: Int)>((false, false, 0, 0))

        init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

        func holdAnswersUntilTaskEnds() {
            precondition(eventLoop.inEventLoop)
            let first = state.withLock { s in
                defer { s.holding = true }
                return !s.holding
            }
            guard first else { return }
            eventLoop.execute {
                self.state.withLock { s in
                    if s.unwritten { s.writes += 1 }
                    (s.holding, s.unwritten) = (false, false)
                }
            }
        }

        func deliver(_ outcome: PullOutcome) {
            state.withLock { s in
                s.delivered += 1
                if s.holding { s.unwritten = true } else { s.writes += 1 }
            }
        }

        var counts: (delivered: Int, writes: Int, holding: Bool) { state.withLock { ($0.delivered, $0.writes, $0.holding) } }
    }

    /// Pulls of one connection held on eight queues, woken by one dispatch batch, are answered in one write.
    @Test func pullsWokenByOneBatchShareOneWrite() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("W", queues: 8)
        let context = f.broker.context
        let pulls = PullService(context: context, clients: context.clients, offsets: context.offsets)
        let waiter = WriteCountingWaiter(f.group.next())
        for q in Int32(0)..<8 {
            #expect(pulls.pull(Self.pull("W", queueId: q, offset: 0, suspendMillis: 10_000), waiter: waiter) == nil)
        }
        #expect(pulls.suspendedCount == 8 && waiter.counts.delivered == 0)
        let host = HostAddress("127.0.0.1:1")!
        let drafts = (Int32(0)..<8).map { q in
            MessageDraft(topic: Array("W".utf8), queueId: q, bornTimestamp: 1, bornHost: host, storeHost: host,
                         body: Array("m\(q)".utf8), properties: [])
        }
        _ = try context.store.append(batch: drafts)  // published together: one dispatch batch touches all eight
        #expect(await eventually(timeoutMillis: 5_000) { let c = waiter.counts; return c.delivered == 8 && !c.holding })
        #expect(waiter.counts.writes == 1)
        pulls.shutdown()
        await f.stop()
    }

    /// The capacity a ByteBuffer asked for `bytes` gets (the next power of two).
    static func roundedUp(_ bytes: Int) -> Int { 1 << (Int.bitWidth - (bytes - 1).leadingZeroBitCount) }

    @Test func sendThenPullThroughTheServicesOnly() async throws {
        let f = try await BrokerFixture.start()
        let context = f.broker.context
        let sends = SendService(context: context)
        let pulls = PullService(context: context, clients: context.clients, offsets: context.offsets)
        var stored: [AppendResult] = []
        for i in 0..<3 {
            guard case let .stored(results, queueId, awaitsFlush) = sends.send(try Self.request("S", body: "m\(i)")) else {
                Issue.record("send \(i) was not stored")
                return
            }
            #expect(queueId == 0 && !awaitsFlush && results.count == 1)
            stored += results
        }
        #expect(stored.map(\.queueOffset) == [0, 1, 2])
        #expect(context.store.waitUntilDispatched(context.store.maxPhysicalOffset))

        let waiter = RecordingWaiter(f.group.next())
        #expect(pulls.pull(Self.pull("S", offset: 0), waiter: waiter) == nil)
        let found = try #require(waiter.last)
        #expect(found.code == ResponseCode.success && found.nextBeginOffset == 3 && found.maxOffset == 3)
        #expect(try RecordDecoder.messages(in: found.body).map { String(decoding: $0.body, as: UTF8.self) } == ["m0", "m1", "m2"])
        // The answer is sized for the 3 records the queue holds, not the 32 asked.
        #expect(found.body.map { $0.capacity <= Self.roundedUp($0.readableBytes) } == true)

        // Long polling: nothing at offset 3 yet; the next send wakes the suspended pull.
        let polling = RecordingWaiter(f.group.next())
        #expect(pulls.pull(Self.pull("S", offset: 3, suspendMillis: 10_000), waiter: polling) == nil)
        #expect(polling.count == 0 && pulls.suspendedCount == 1)
        guard case .stored = sends.send(try Self.request("S", body: "late")) else { Issue.record("not stored"); return }
        #expect(await eventually(timeoutMillis: 5_000) { polling.count == 1 })
        #expect(polling.last?.code == ResponseCode.success && polling.last?.nextBeginOffset == 4)
        #expect(polling.last?.body.map { $0.capacity <= Self.roundedUp($0.readableBytes) } == true)
        pulls.shutdown()
        await f.stop()
    }

    @Test func refusalsAndDuplicatesAreTypedOutcomes() async throws {
        let f = try await BrokerFixture.start { $0.flow.dedupWindowSeconds = ["D": 60] }
        let context = f.broker.context
        let sends = SendService(context: context)
        let pulls = PullService(context: context, clients: context.clients, offsets: context.offsets)
        guard case let .rejected(reserved) = sends.send(try Self.request("SCHEDULE_TOPIC_XXXX", body: "x")) else {
            Issue.record("a reserved topic was accepted")
            return
        }
        #expect(reserved.code == ResponseCode.noPermission)
        guard case let .rejected(badQueue) = sends.send(try Self.request("S", queueId: 99, body: "x")) else {
            Issue.record("queue 99 was accepted")
            return
        }
        #expect(badQueue.code == ResponseCode.systemError && badQueue.remark.contains("producer: 10.0.0.1:4000"))

        let copy = try Self.request("D", body: "once", properties: [("UNIQ_KEY", "K1")])
        guard case let .stored(first, _, _) = sends.send(copy), case let .duplicate(original) = sends.send(copy) else {
            Issue.record("the second copy was not answered as a duplicate")
            return
        }
        #expect(original.physicalOffset == first[0].physicalOffset && original.queueOffset == first[0].queueOffset)

        let waiter = RecordingWaiter(f.group.next())
        #expect(pulls.pull(Self.pull("NoSuchTopic", offset: 0), waiter: waiter)?.code == ResponseCode.topicNotExist)
        #expect(waiter.count == 0, "a refused pull delivers nothing")
        pulls.shutdown()
        await f.stop()
    }
}
