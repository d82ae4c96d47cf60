import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// Held pulls expire by one sweep armed at the earliest deadline, not by a timer each: parking a pull that is due
/// no earlier than the armed sweep arms nothing (a timer per pull had cost a scheduled task and a cancel for every
/// hold that a message ended first). Every hold is still answered once: by a message, the sweep or shutdown.
@Suite struct PullHoldTimerTests {
    typealias Waiter = SendPullServiceTests.RecordingWaiter

    /// A broker with topic "S" and a pull service of its own (shut down after `body`).
    private static func withPulls(_ body: (BrokerFixture, PullService) async throws -> Void) async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("S")
        let context = f.broker.context
        let pulls = PullService(context: context, clients: context.clients, offsets: context.offsets)
        try await body(f, pulls)
        pulls.shutdown()
        await f.stop()
    }

    /// Holds a pull of "S" at offset 0 for `millis`.
    private static func hold(_ pulls: PullService, millis: Int64, on f: BrokerFixture) -> Waiter {
        let waiter = Waiter(f.group.next())
        #expect(pulls.pull(SendPullServiceTests.pull("S", offset: 0, suspendMillis: millis), waiter: waiter) == nil)
        return waiter
    }

    @Test func manyHoldsArmOneSweepAndAMessageAnswersThemAll() async throws {
        try await Self.withPulls { f, pulls in
            let waiters = (0..<50).map { _ in Self.hold(pulls, millis: 600_000, on: f) }
            #expect(pulls.suspendedCount == 50)
            #expect(pulls.sweepsArmed == 1 && pulls.sweepArmed)
            guard case .stored = SendService(context: f.broker.context).send(try SendPullServiceTests.request("S", body: "wake")) else {
                Issue.record("not stored")
                return
            }
            #expect(await eventually(timeoutMillis: 10_000) { waiters.allSatisfy { $0.count == 1 } })
            #expect(waiters.allSatisfy { $0.last?.code == ResponseCode.success })
            #expect(pulls.suspendedCount == 0 && pulls.sweepsArmed == 1)
            // The queue's emptied table keeps its storage for the next pulls that park on it.
            let kept = pulls.holds.withLockedValue { $0.queues[QueueKey(topic: "S", queueId: 0)].map { ($0.count, $0.capacity) } }
            #expect(kept.map { $0.0 == 0 && $0.1 >= 50 } == true, "\(String(describing: kept))")
        }
    }

    @Test func anExpiredHoldIsAnsweredAndTheSweepMovesToTheNext() async throws {
        try await Self.withPulls { f, pulls in
            let long = Self.hold(pulls, millis: 600_000, on: f)
            // Due long before the armed sweep: it moves the sweep earlier.
            let short = Self.hold(pulls, millis: 50, on: f)
            #expect(await eventually(timeoutMillis: 10_000) { short.count == 1 })
            #expect(short.last?.code == ResponseCode.pullNotFound)
            #expect(long.count == 0 && pulls.suspendedCount == 1)
            // The sweep that answered the short hold armed the next one, for the long hold.
            #expect(await eventually(timeoutMillis: 10_000) { pulls.sweepArmed && pulls.sweepsArmed == 3 })
        }
    }

    /// Churn: holds of varied lengths parked from several loops and threads while sweeps run and re-arm; every
    /// one is answered exactly once (by the sweep: nothing arrives), and the sweep disarms once none is left.
    @Test func holdsOfVariedLengthsParkedConcurrentlyAreEachAnsweredOnce() async throws {
        try await Self.withPulls { f, pulls in
            let waiters = await withTaskGroup(of: [(Waiter, Int64)].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [(Waiter, Int64)] = []
                        for i in 0..<50 {
                            let millis = Int64(20 + (worker * 50 + i) * 7 % 180)
                            mine.append((Self.hold(pulls, millis: millis, on: f), millis))
                            if i % 10 == 9 { try? await Task.sleep(for: .milliseconds(15)) }
                        }
                        return mine
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            #expect(waiters.count == 200)
            #expect(await eventually(timeoutMillis: 20_000) { waiters.allSatisfy { $0.0.count >= 1 } })
            #expect(waiters.allSatisfy { $0.0.count == 1 && $0.0.last?.code == ResponseCode.pullNotFound })
            #expect(pulls.suspendedCount == 0)
            #expect(await eventually(timeoutMillis: 10_000) { !pulls.sweepArmed })
        }
    }

    /// A consumer's pulls park a few µs apart with the same timeout: one sweep ends them all (taking only those
    /// already due split them into two sweeps, and the split came back every period).
    @Test func holdsDueCloseTogetherEndInOneSweep() async throws {
        try await Self.withPulls { f, pulls in
            let first = ContinuousClock.now
            let waiters = (0..<8).map { _ in Self.hold(pulls, millis: 200, on: f) }
            let spread = ContinuousClock.now - first
            #expect(await eventually(timeoutMillis: 10_000) { waiters.allSatisfy { $0.count == 1 } })
            #expect(waiters.allSatisfy { $0.last?.code == ResponseCode.pullNotFound })
            // Parked within 5 ms of each other (else this machine stalled the test itself: nothing to check).
            if spread < .milliseconds(5) {
                #expect(pulls.sweepsArmed == 1, "parked over \(spread)")
            }
            #expect(!pulls.sweepArmed)
        }
    }

    @Test func shutdownAnswersTheHoldsAndDisarmsTheSweep() async throws {
        try await Self.withPulls { f, pulls in
            let waiters = [Self.hold(pulls, millis: 600_000, on: f), Self.hold(pulls, millis: 600_000, on: f)]
            #expect(pulls.sweepArmed)
            pulls.shutdown()
            #expect(waiters.allSatisfy { $0.count == 1 })
            #expect(!pulls.sweepArmed && pulls.suspendedCount == 0)
        }
    }
}
