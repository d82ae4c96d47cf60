import ServiceLifecycle
import TernStorage

/// A service with nothing to do while running: it runs `start` (quick, non-blocking), waits for graceful
/// shutdown (or cancellation, when a sibling failed) and then runs `stop` once. Its place in the group's list
/// decides when `stop` runs.
final class StopService: Service, Sendable, CustomStringConvertible {
    private let name: String
    private let events: LifecycleEvents?
    private let start: @Sendable () -> Void
    private let stop: @Sendable () async -> Void

    var description: String { name }

    init(name: String, events: LifecycleEvents?, start: @escaping @Sendable () -> Void = {},
         stop: @escaping @Sendable () async -> Void) {
        self.name = name
        self.events = events
        self.start = start
        self.stop = stop
    }

    func run() async throws {
        start()
        events?.record("\(name) started")
        try? await gracefulShutdown()
        await stop()
        events?.record("\(name) stopped")
    }
}

extension StopService {
    /// The store as a service: opened (and recovered) before the group starts; its threads (dispatcher,
    /// flusher, housekeeping) start when the group runs it, first in the list; closed when the group stops it
    /// last: threads stopped, final dispatch, flush, index sync, lock released.
    static func store(_ store: MessageStore, events: LifecycleEvents?) -> StopService {
        StopService(name: "store", events: events, start: { store.start() }, stop: { store.close() })
    }
}
