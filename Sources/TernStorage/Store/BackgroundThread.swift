import Foundation
import Synchronization
import TernSystem

/// A named OS thread running a body (given to `start`) until `stop()`; `wake()` cuts its current sleep short.
/// Created before it starts so owners can keep it in a `let` and call `wake()` without a lock (hot path).
///
/// Lost wakeups: `sleep` raises the `sleeping` flag, then re-checks the caller's condition (`unless`), then
/// waits; `wake` signals only when the flag is up. A wake that slips between the body's last check and the
/// flag is caught by the re-check; any remaining race is bounded by `maxMillis`. A stray permit only causes
/// one spurious, harmless wakeup.
final class BackgroundThread: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let sleeping = Atomic<Bool>(false)
    private let fence = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    /// The thread's kernel id once it runs (0 before).
    private let threadID = Atomic<UInt>(0)
    private let name: String

    init(name: String) { self.name = name }

    /// Starts the thread (once).
    func start(_ body: @escaping @Sendable (BackgroundThread) -> Void) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            // Named from inside (see ThreadName): /proc and per-thread CPU tools then show this name, not the
            // creator's.
            ThreadName.setCurrent(name)
            threadID.store(ThreadID.current, ordering: .releasing)
            body(self)
            finished.signal()
        }
        thread.start()
    }

    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Sleeps until woken or `maxMillis` elapse, unless `unless()` is already true.
    func sleep(maxMillis: Int, unless: () -> Bool = { false }) {
        sleep(maxMicros: maxMillis * 1_000, unless: unless)
    }

    /// Sleeps until woken or `maxMicros` elapse, unless `unless()` is already true.
    func sleep(maxMicros: Int, unless: () -> Bool = { false }) {
        sleeping.store(true, ordering: .sequentiallyConsistent)
        if !unless() {
            _ = semaphore.wait(timeout: .now() + .microseconds(maxMicros))
        }
        sleeping.store(false, ordering: .sequentiallyConsistent)
    }

    /// Cheap when the thread is busy: signals only if it is (about to be) asleep.
    ///
    /// The waker published its work (a release store elsewhere) before calling; the sleeper raises `sleeping`
    /// and then re-reads that work. A plain load here could be ordered before the waker's store (store-load
    /// reordering), letting both sides miss each other until `maxMillis`. The read-modify-write on `fence` is a
    /// full barrier on every target we run on, so idle threads may sleep long without losing a wake-up.
    func wake() {
        fence.add(1, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { semaphore.signal() }
    }

    /// Stops the loop and waits for the body to return. Called from the body itself (its owner's deinit can run
    /// there, when the body held the last reference for a moment), it returns at once: the body is the caller, and
    /// waiting for it would never end.
    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        guard started.load(ordering: .acquiring) else { return }
        semaphore.signal()
        if threadID.load(ordering: .acquiring) == ThreadID.current { return }
        finished.wait()
    }
}
