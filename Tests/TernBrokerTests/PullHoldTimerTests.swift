import NIOCore
import NIOPosix
import Synchronization
@testable import TernBroker
import TernProtocol
import TernRemoting
import Testing

/// Each held pull arms one timeout; the hold ends it exactly once: the timer answers the pull, or whoever answers
/// or drops the pull first (a wake-up, shutdown) cancels the timer. A timer left armed after its pull was answered
/// stays in the loop's timer heap until its deadline (thousands per second at a steady rate).
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

    @Test func aWokenPullCancelsItsTimer() async throws {
        try await Self.withPulls { f, pulls in
            let waiter = Self.hold(pulls, millis: 600_000, on: f)
            #expect(pulls.suspendedCount == 1 && pulls.armedHoldTimers.load(ordering: .relaxed) == 1)
            guard case .stored = SendService(context: f.broker.context).send(try SendPullServiceTests.request("S", body: "wake")) else {
                Issue.record("not stored")
                return
            }
            #expect(await eventually(timeoutMillis: 10_000) { waiter.count == 1 })
            #expect(waiter.last?.code == ResponseCode.success)
            // Disarmed before the answer was delivered: a ten-minute timer is no longer pending.
            #expect(pulls.armedHoldTimers.load(ordering: .relaxed) == 0)
        }
    }

    @Test func shutdownCancelsTheTimersOfThePullsItAnswers() async throws {
        try await Self.withPulls { f, pulls in
            let waiters = [Self.hold(pulls, millis: 600_000, on: f), Self.hold(pulls, millis: 600_000, on: f)]
            #expect(pulls.armedHoldTimers.load(ordering: .relaxed) == 2)
            pulls.shutdown()
            #expect(waiters.allSatisfy { $0.count == 1 })
            #expect(pulls.armedHoldTimers.load(ordering: .relaxed) == 0)
        }
    }

    @Test func aTimerThatAnswersItsPullCountsItselfDown() async throws {
        try await Self.withPulls { f, pulls in
            let waiter = Self.hold(pulls, millis: 50, on: f)
            #expect(await eventually(timeoutMillis: 10_000) { waiter.count == 1 })
            #expect(waiter.last?.code == ResponseCode.pullNotFound)
            #expect(pulls.armedHoldTimers.load(ordering: .relaxed) == 0)
        }
    }
}
