import Synchronization
import TernSystem

/// Makes the log durable: background msync in async mode; group commit in sync mode.
///
/// Group commit: an append that must wait registers (end offset, deadline, completion). The flush thread
/// takes the current write position as its target, msyncs everything dirty up to it once, raises `flushed`,
/// and completes every waiter whose end is at or below it in one pass. Appends that arrive during the msync
/// are served by the next round, so one msync covers many producers.
///
/// Gathering: producers that wait for their answer before sending again (a client's in-flight window) come
/// back as one cohort after each round. Starting the next msync at the first returner would split that cohort
/// across two rounds, each as slow as a full one (an msync costs about the same for 1 or 256 records), and
/// halve the throughput; once split, the two halves alternate for good. So after a round that released `n`
/// waiters while `p` others registered during its msync, the next one starts as soon as `n + p` waiters are
/// pending (the cohorts merged again), or after the last msync's duration (at most `maxGatherMicros`: no longer
/// than a record that just missed a round waits anyway), whichever comes first. Registrations wake the thread
/// only when they complete the group (`wakeAtCount`), so a round costs one wake-up, not one per waiter.
final class FlushService: Sendable {
    typealias Completion = @Sendable (Durability) -> Void

    private struct Waiter {
        var end: Int64
        var deadline: UInt64
        var completion: Completion
    }

    /// Registration order, hence deadline order (deadlines are taken under the lock with one timeout).
    private struct Waiters {
        var pending: [Waiter] = []
        /// Storage a completion pass fills and hands back emptied (no array allocated per round).
        var spare: [Waiter] = []
    }

    private let log: CommitLog
    private let index: any IndexStore
    private let mode: StoreConfig.FlushMode
    private let flushedOffset = Atomic<Int64>(0)
    private let waiters = Mutex(Waiters())
    /// A registration that brings the pending count to this wakes the thread (Int.max while it flushes).
    private let wakeAtCount = Atomic<Int>(1)
    static let maxGatherMicros = 5_000
    private let worker = BackgroundThread(name: "tern-flush")
    private let failure = Mutex<StoreError?>(nil)
    /// Set once `failure` is: appends read this flag, not the lock.
    private let hasFailed = Atomic<Bool>(false)
    /// The async settings, read by the flush thread every round and stored by `setAsync` from any thread. Three
    /// separate atomics: a round that reads a mix of old and new values once is harmless.
    private let intervalMillis: Atomic<Int>
    private let leastPages: Atomic<Int>
    private let thoroughIntervalMillis: Atomic<Int>
    /// Raised by every `setAsync` after its stores: a change made while the thread was between its check and its
    /// sleep cuts that sleep short (the sleep's re-check), so no wake-up is lost.
    private let settingsVersion = Atomic<Int>(0)

    private let observer: (any StoreObserver)?
    /// Waiters' deadlines (monotonic): a manual clock in tests moves them without sleeping.
    private let clock: any TernClock

    init(log: CommitLog, index: any IndexStore, mode: StoreConfig.FlushMode, async: AsyncFlushSettings, flushed: Int64,
         clock: any TernClock, observer: (any StoreObserver)? = nil) {
        intervalMillis = Atomic(async.intervalMillis)
        leastPages = Atomic(async.leastPages)
        thoroughIntervalMillis = Atomic(async.thoroughIntervalMillis)
        self.observer = observer
        self.clock = clock
        self.log = log
        self.index = index
        self.mode = mode
        flushedOffset.store(flushed, ordering: .releasing)
    }

    var flushed: Int64 { flushedOffset.load(ordering: .acquiring) }

    /// After the log was truncated to `offset`: records appended there later are not flushed yet.
    func rewind(to offset: Int64) {
        if flushed > offset { flushedOffset.store(offset, ordering: .releasing) }
    }
    var failed: StoreError? { hasFailed.load(ordering: .acquiring) ? failure.withLock { $0 } : nil }

    var asyncSettings: AsyncFlushSettings {
        AsyncFlushSettings(intervalMillis: intervalMillis.load(ordering: .relaxed), leastPages: leastPages.load(ordering: .relaxed),
                           thoroughIntervalMillis: thoroughIntervalMillis.load(ordering: .relaxed))
    }

    /// Takes effect at the next round; the thread is woken so a shorter interval does not wait out a long sleep.
    func setAsync(_ settings: AsyncFlushSettings) {
        intervalMillis.store(settings.intervalMillis, ordering: .relaxed)
        leastPages.store(settings.leastPages, ordering: .relaxed)
        thoroughIntervalMillis.store(settings.thoroughIntervalMillis, ordering: .relaxed)
        settingsVersion.add(1, ordering: .releasing)
        worker.wake()
    }

    func start() {
        switch mode {
        case .async:
            // Read before the thread exists: a change made after `start` returns ends the first sleep too.
            let versionAtStart = settingsVersion.load(ordering: .acquiring)
            worker.start { [self] t in
                var seen = versionAtStart
                var lastThorough = Clock.monotonicNanos()
                while t.isRunning {
                    t.sleep(maxMillis: intervalMillis.load(ordering: .relaxed)) {
                        settingsVersion.load(ordering: .acquiring) != seen
                    }
                    seen = settingsVersion.load(ordering: .acquiring)
                    let now = Clock.monotonicNanos()
                    let dirty = log.writePosition - flushed
                    let thoroughNanos = UInt64(thoroughIntervalMillis.load(ordering: .relaxed)) * 1_000_000
                    let thoroughDue = now - lastThorough >= thoroughNanos
                    let leastBytes = Int64(leastPages.load(ordering: .relaxed) * MappedFile.pageSize)
                    if dirty >= leastBytes || (thoroughDue && dirty > 0) {
                        flushRound()
                    }
                    if thoroughDue {
                        lastThorough = now
                        syncIndex()
                    }
                }
            }
        case .sync:
            worker.start { [self] t in
                var lastIndexSync = Clock.monotonicNanos()
                var group = 1
                var gatherMicros = 0
                while t.isRunning {
                    let pending = pendingCount
                    if pending == 0 || log.writePosition <= flushed {
                        // Idle: the first registration wakes the thread; else only expiry and the index sync do.
                        wakeAtCount.store(1, ordering: .sequentiallyConsistent)
                        t.sleep(maxMillis: pending == 0 ? 1_000 : 10) { log.writePosition > flushed && pendingCount > 0 }
                    } else if pending < group {
                        wakeAtCount.store(group, ordering: .sequentiallyConsistent)
                        t.sleep(maxMicros: gatherMicros) { pendingCount >= group }
                    }
                    wakeAtCount.store(.max, ordering: .sequentiallyConsistent)
                    if log.writePosition > flushed {
                        let started = Clock.monotonicNanos()
                        let round = flushRound()
                        group = max(1, round.released + round.stillPending)
                        gatherMicros = min(Self.maxGatherMicros, Int((Clock.monotonicNanos() - started) / 1_000))
                    }
                    expireWaiters()
                    let now = Clock.monotonicNanos()
                    if now - lastIndexSync >= 1_000_000_000 {
                        lastIndexSync = now
                        syncIndex()
                    }
                }
            }
        }
    }

    private var pendingCount: Int { waiters.withLock { $0.pending.count } }

    /// One msync up to the current write position, then release satisfied waiters. Returns how many it released
    /// and how many were still pending at that moment (registered during the msync, past its end).
    @discardableResult
    func flushRound() -> (released: Int, stillPending: Int) {
        let target = log.writePosition
        let from = flushed
        guard target > from else { return completeWaiters(upTo: from) }
        do {
            let started = observer == nil ? 0 : Clock.monotonicNanos()
            try log.flush(from: from, to: target)
            observer?.flushed(bytes: target - from, nanos: Clock.monotonicNanos() &- started)
            flushedOffset.store(target, ordering: .releasing)
            return completeWaiters(upTo: target)
        } catch {
            // After a failed msync the page cache cannot be trusted ("fsyncgate"): nothing past `from` is
            // durable and never will be from this process. Every waiter hears the failure now, later waiters
            // at once, and the store refuses appends until a restart re-validates the log.
            fail(StoreError.wrap(error))
            return (0, 0)
        }
    }

    /// Marks the write path failed and fails every waiter.
    private func fail(_ why: StoreError) {
        failure.withLock { $0 = $0 ?? why }
        hasFailed.store(true, ordering: .releasing)
        let all = waiters.withLock { w in defer { w.pending = [] }; return w.pending }
        for w in all { w.completion(.failed(failed ?? why)) }
    }

    /// Calls `completion(.durable)` once the log is durable up to `end` (at once when it is), or `false` when
    /// the sync-flush timeout passes first.
    func whenFlushed(_ end: Int64, _ completion: @escaping Completion) {
        if flushed >= end { return completion(.durable) }
        if let why = failed { return completion(.failed(why)) }
        let timeoutNanos: UInt64
        if case let .sync(ms) = mode { timeoutNanos = UInt64(ms) * 1_000_000 } else { timeoutNanos = 5_000_000_000 }
        let count = waiters.withLock { w in
            w.pending.append(Waiter(end: end, deadline: clock.monotonicNanos() + timeoutNanos, completion: completion))
            return w.pending.count
        }
        // Seq-cst pairs with the thread's store before it sleeps (see `start`): one of the two sees the other.
        // Only the registration that reaches the count wakes (each count is reached by exactly one): a wake per
        // later registration would leave stray semaphore permits that cut the next gathers short.
        if count == wakeAtCount.load(ordering: .sequentiallyConsistent) { worker.wake() }
        if flushed >= end { completeWaiters(upTo: flushed) }  // raced with a round that just finished
    }

    /// Completes every waiter whose end is at or below `offset` in one pass; returns how many, and how many stayed
    /// pending (counted under the same lock: a released producer that registers again is not counted twice).
    @discardableResult
    private func completeWaiters(upTo offset: Int64) -> (released: Int, stillPending: Int) {
        var stillPending = 0
        var done: [Waiter] = waiters.withLock { w in
            defer { stillPending = w.pending.count }
            guard !w.pending.isEmpty else { return [] }
            var ready: [Waiter] = []
            swap(&ready, &w.spare)
            if w.pending.allSatisfy({ $0.end <= offset }) {
                swap(&ready, &w.pending)
            } else {
                // Stable: the pending keep their registration (deadline) order.
                var kept = 0
                for i in w.pending.indices {
                    if w.pending[i].end <= offset { ready.append(w.pending[i]) } else { w.pending.swapAt(kept, i); kept += 1 }
                }
                w.pending.removeLast(w.pending.count - kept)
            }
            return ready
        }
        let n = done.count
        for d in done { d.completion(.durable) }
        done.removeAll(keepingCapacity: true)
        waiters.withLock { w in if w.spare.capacity < done.capacity { swap(&w.spare, &done) } }
        return (n, stillPending)
    }

    /// Times out every waiter whose deadline the store's clock has passed (the sync flush thread calls it
    /// every pass while waiters exist). Deadlines rise in registration order: only a prefix can be due.
    func expireWaiters() {
        let now = clock.monotonicNanos()
        let expired: [Waiter] = waiters.withLock { w in
            guard let first = w.pending.first, first.deadline <= now else { return [] }
            let due = w.pending.firstIndex { $0.deadline > now } ?? w.pending.count
            defer { w.pending.removeFirst(due) }
            return Array(w.pending[..<due])
        }
        for e in expired { e.completion(.timedOut) }
    }

    /// An index sync failure is a failed fsync too: the derived state could be rebuilt, but consumer offsets
    /// live there, so it fences the write path like a log flush failure.
    private func syncIndex() {
        do { try index.sync() } catch { fail(StoreError.wrap(error)) }
    }

    /// Stops the thread after a final flush; remaining waiters complete.
    func stop() {
        worker.stop()
        flushRound()
        expireWaiters()
        let rest = waiters.withLock { w in defer { w.pending = [] }; return w.pending }
        for r in rest { r.completion(flushed >= r.end ? .durable : failed.map(Durability.failed) ?? .timedOut) }
    }
}

/// What became of a wait for durability.
public enum Durability: Sendable, Equatable {
    /// The log is durable up to the record's end.
    case durable
    /// Not yet durable when the sync-flush timeout passed; the record is stored (FLUSH_DISK_TIMEOUT).
    case timedOut
    /// The flush failed (the cause: msync / index sync error): the record is NOT known to be stored durably, and
    /// the store accepts no more appends.
    case failed(StoreError)
}
