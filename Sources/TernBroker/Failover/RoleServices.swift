import Logging
import ServiceLifecycle
import Synchronization

/// Services that run only while this replica holds one role in controller mode: the master's own appenders
/// (schedule, transaction check, trace) and a slave's metadata sync. The ``FailoverService`` starts them when
/// the role is taken and stops them, awaited, when it is left; the broker's service group stops them on
/// shutdown at their place in the stop order (before the offset and topic writers and the store).
///
/// Each start builds fresh services (a `TimerService` runs once) in a `ServiceGroup` of their own on a detached
/// task, so the caller's graceful-shutdown scope does not reach them: they stop exactly when told. The running
/// timers are reachable (``wake()``, ``timer(named:)``) so that `Broker.clockChanged()` reaches them like the
/// broker's fixed timers: against a `ManualClock` a timer sleeps until woken.
final class RoleServices: Service, Sendable {
    typealias Make = @Sendable () -> [TimerService]

    let name: String
    private let make: Make
    private let logger: Logger
    private struct State {
        var running: (group: ServiceGroup, task: Task<Void, Never>, timers: [TimerService])?
        /// The last group's task: a stop awaits it even when another caller triggered the shutdown.
        var last: Task<Void, Never>?
        /// The broker is shutting down: nothing starts any more.
        var closed = false
        var starts = 0
    }
    private let state = Mutex(State())

    init(name: String, logger: Logger, make: @escaping Make) {
        self.name = name
        self.make = make
        self.logger = logger
    }

    var isRunning: Bool { state.withLock { $0.running != nil } }
    /// Times the services were started (tests).
    var starts: Int { state.withLock { $0.starts } }

    /// The running timer called `name` (nil while stopped).
    func timer(named name: String) -> TimerService? {
        state.withLock { $0.running?.timers.first { $0.name == name } }
    }

    /// Makes the running timers re-read the clock now.
    func wake() {
        for t in state.withLock({ $0.running?.timers ?? [] }) { t.wake() }
    }

    /// Starts the services unless they run already or the broker is shutting down.
    func start() {
        let name = self.name, logger = self.logger
        let started = state.withLock { s -> Bool in
            guard s.running == nil, !s.closed else { return false }
            let timers = make()
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: timers, logger: logger))
            let task = Task.detached {
                do { try await group.run() } catch {
                    logger.error("role services failed", metadata: ["services": "\(name)", "error": "\(error)"])
                }
            }
            s.running = (group, task, timers)
            s.last = task
            s.starts += 1
            return true
        }
        if started { logger.info("role services started", metadata: ["services": "\(name)"]) }
    }

    /// Stops the services and returns once every one of them has stopped (at once when none ran).
    func stop() async { await beginStop()?.value }

    /// Tells the running services to stop without waiting (a later ``stop()`` or ``start()`` sees them
    /// stopping); returns the task that ends when they have.
    @discardableResult
    func beginStop() -> Task<Void, Never>? {
        let (running, last) = state.withLock { s in
            defer { s.running = nil }
            return (s.running, s.last)
        }
        if let running {
            logger.info("role services stopping", metadata: ["services": "\(name)"])
            Task { await running.group.triggerGracefulShutdown() }
        }
        return last
    }

    /// Waits for the broker's shutdown, then stops whatever runs and refuses further starts.
    func run() async throws {
        try? await gracefulShutdown()
        state.withLock { $0.closed = true }
        await stop()
    }
}
