import Synchronization
@testable import TernBroker
import TernStorage
import TernSystem
import Testing

extension BrokerFixture {
    /// Moves `clock` (the fixture's `BrokerConfig.clock`) by `millis`, wakes the timers and waits until the
    /// timer service `timer` ("schedule", "transaction-check", ...) ran a step over an index that covers
    /// everything appended before: a test moves time instead of sleeping.
    func advance(_ clock: ManualClock, millis: Int64, runningTimer timer: String) async throws {
        let store = broker.store
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let service = try #require(broker.timer(named: timer))
        let before = service.stepsCompleted.load(ordering: .acquiring)
        clock.advance(millis: millis)
        broker.clockChanged()
        #expect(await eventually(timeoutMillis: 5_000) { service.stepsCompleted.load(ordering: .acquiring) > before })
    }
}
