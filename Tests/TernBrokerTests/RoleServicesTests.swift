import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TernSystem
@testable import TernBroker

/// Services bound to a controller-mode role: started fresh on each start, stopped and awaited, never restarted
/// once the broker shuts down.
@Suite struct RoleServicesTests {
    final class Counts: Sendable {
        let made = Atomic<Int>(0)
        let stopped = Atomic<Int>(0)
        var values: (made: Int, stopped: Int) { (made.load(ordering: .acquiring), stopped.load(ordering: .acquiring)) }
    }

    @Test func startsFreshServicesStopsThemAwaitedAndNotAfterShutdown() async throws {
        let counts = Counts()
        let logger = Logger(label: "tern.test.role-services")
        let roles = RoleServices(name: "test-services", logger: logger) {
            counts.made.add(1, ordering: .releasing)
            return [TimerService(name: "test", clock: SystemClock(), step: { _ in nil },
                                 onStop: { counts.stopped.add(1, ordering: .releasing) })]
        }
        roles.start()
        roles.start()
        #expect(counts.values == (1, 0) && roles.isRunning)
        await roles.stop()
        // Awaited: the service's last step and its onStop are done when stop() returns.
        #expect(counts.values == (1, 1) && !roles.isRunning)
        await roles.stop()
        roles.start()
        #expect(counts.values == (2, 1) && roles.starts == 2)

        // The broker's service group stops the running ones at shutdown and no start is honoured after it.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [roles], logger: logger))
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(counts.values == (2, 2) && !roles.isRunning)
        roles.start()
        #expect(counts.values == (2, 2) && !roles.isRunning)
    }
}
