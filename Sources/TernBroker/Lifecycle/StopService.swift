import ServiceLifecycle
import TernStorage

/// A service with nothing to do while running: it waits for graceful shutdown (or cancellation, when a
/// sibling failed) and then runs `stop` once. Its place in the group's list decides when `stop` runs.
final class StopService: Service, Sendable, CustomStringConvertible {
    private let name: String
    private let events: LifecycleEvents?
    private let stop: @Sendable () async -> Void

    var description: String { name }

    init(name: String, events: LifecycleEvents?, stop: @escaping @Sendable () async -> Void) {
        self.name = name
        self.events = events
        self.stop = stop
    }

    func run() async throws {
        events?.record("\(name) started")
        try? await gracefulShutdown()
        await stop()
        events?.record("\(name) stopped")
    }
}

extension StopService {
    /// The store as a service: opened (and recovered) before the group starts, closed when the group stops
    /// it last: final dispatch, flush, index sync, lock released. The store's own threads (dispatcher,
    /// flusher, housekeeping) stay inside TernStorage; this is the one place to swap for the store's own
    /// `Service` once it exposes one.
    static func store(_ store: MessageStore, events: LifecycleEvents?) -> StopService {
        StopService(name: "store", events: events) { store.close() }
    }
}
