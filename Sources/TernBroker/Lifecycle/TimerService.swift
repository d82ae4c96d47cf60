import Logging
import ServiceLifecycle
import Synchronization
import TernSystem

/// The broker's one model of background work: a `Service` whose task runs `step` and then sleeps until the
/// wall time `step` returned (nil: no timer), a `wake()` (a dispatch event, a topic change, a test moving
/// the clock) or graceful shutdown, whichever comes first. Nothing runs while it sleeps, so an idle broker
/// wakes only for its timers.
///
/// `step` runs on the service's task, off the event loops; it may read and append to the store. `onStop`
/// runs once after the last step, on the same task (unregister, cancel subscriptions).
final class TimerService: Service, Sendable, CustomStringConvertible {
    typealias Step = @Sendable (_ nowMillis: Int64) async -> Int64?

    let name: String
    private let clock: any TernClock
    private let wakeup = Wakeup()
    private let stopping = Atomic<Bool>(false)
    private let step: Step
    private let onStop: @Sendable () async -> Void
    private let events: LifecycleEvents?
    /// Steps run so far (tests wait for the next one instead of sleeping).
    let stepsCompleted = Atomic<Int>(0)

    var description: String { name }

    init(name: String, clock: any TernClock, events: LifecycleEvents? = nil, step: @escaping Step,
         onStop: @escaping @Sendable () async -> Void = {}) {
        self.name = name
        self.clock = clock
        self.events = events
        self.step = step
        self.onStop = onStop
    }

    /// A service that runs `body` every `periodMillis` of `clock`, the first time one period after it starts.
    static func periodic(name: String, clock: any TernClock, periodMillis: Int64, events: LifecycleEvents? = nil,
                         _ body: @escaping @Sendable () async -> Void,
                         onStop: @escaping @Sendable () async -> Void = {}) -> TimerService {
        let next = Mutex<Int64?>(nil)
        return TimerService(name: name, clock: clock, events: events, step: { now in
            let due = next.withLock { n in
                let due = n ?? now + periodMillis
                n = due
                return due
            }
            guard now >= due else { return due }
            await body()
            next.withLock { $0 = now + periodMillis }
            return now + periodMillis
        }, onStop: onStop)
    }

    /// Ends the current sleep: the next step runs now.
    func wake() { wakeup.signal() }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    func run() async throws {
        events?.record("\(name) started")
        await withGracefulShutdownHandler {
            while !isStopping && !Task.isCancelled {
                let due = await step(clock.wallMillis())
                stepsCompleted.add(1, ordering: .releasing)
                if isStopping { break }
                await wakeup.wait(untilWallMillis: due, clock: clock)
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .releasing)
            self.wakeup.signal()
        }
        await onStop()
        events?.record("\(name) stopped")
    }
}

/// What the lifecycle did, in order ("store recovered", "<service> started", "<service> stopped"): kept so
/// tests can check the order of starts and stops without timing, and logged at debug.
public final class LifecycleEvents: Sendable {
    private let list = Mutex<[String]>([])
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func record(_ event: String) {
        list.withLock { $0.append(event) }
        logger.debug("lifecycle", metadata: ["event": "\(event)"])
    }

    public var all: [String] { list.withLock { $0 } }
}
