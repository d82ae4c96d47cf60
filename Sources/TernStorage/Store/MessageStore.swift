import Dispatch
import Foundation
import Logging
import Synchronization
import TernMessage
import TernSystem

/// The store: one commit log (source of truth) plus derived indexes, with recovery, flushing and retention.
///
/// Lifecycle: `open` takes the store's lock file and recovers (see Recovery.swift); `start()` then starts four
/// threads: dispatcher (log → indexes), flusher (durability), prefault (log pages, at idle priority),
/// housekeeping (next segment, tail release, disk checks, retention, offset backup). `close`
/// stops them after dispatching and flushing everything, so a clean restart replays nothing.
public final class MessageStore: Sendable {
    public let config: StoreConfig
    let log: CommitLog
    let index: any IndexStore
    let dispatcher: Dispatcher
    let flusher: FlushService
    private let lock: FileLock
    /// The commit-log directory's own lock when it lies outside the root (`StoreConfig.commitLogLockPath`).
    private let logLock: FileLock?
    let logger: Logger
    let disk: DiskSpaceMonitor
    /// Log position at the last disk reading taken by a writer (see `afterAppend`).
    private let diskCheckedAt = Atomic<Int64>(0)
    /// Damaged records that reads met and logged (bounded: see `intactRecord`).
    let damagedReads = Mutex<Set<Int64>>([])
    private let housekeeping = BackgroundThread(name: "tern-housekeep")
    /// Log prefault (the active segment ahead of the writer, the prepared next one), in SCHED_IDLE (see `start`).
    private let prefaulting = BackgroundThread(name: "tern-prefault")
    /// What consumers still want from memory, as the prefault thread reads it.
    let consumedFloor = ConsumedFloor()
    let isClosed = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// What recovery found and did at open.
    public let recovery: RecoveryReport

    /// Opens (creating when missing) the store at `config.root`.
    public static func open(_ config: StoreConfig, logger: Logger = Logger(label: "tern.store")) throws -> MessageStore {
        try FileSystem.createDirectory(config.root)
        let lock: FileLock
        do { lock = try FileLock.acquire(path: config.lockPath) } catch {
            throw StoreError.storeLocked(path: config.lockPath)
        }
        var logLock: FileLock? = nil
        do {
            if let path = config.commitLogLockPath {
                try FileSystem.createDirectory(config.commitLogPath)
                do { logLock = try FileLock.acquire(path: path) } catch { throw StoreError.storeLocked(path: path) }
            }
            let log = try CommitLog(directory: config.commitLogPath, segmentSize: config.segmentSize,
                                    maxRecordSize: config.maxRecordSize, prefault: config.prefaultSegments,
                                    singlePagePrefault: true, writeAhead: config.warmMappedFile,
                                    writeThrough: config.writeThrough,
                                    clock: config.clock, logger: logger)
            let (index, report, checkpoint) = try openIndex(config, log: log, logger: logger)
            log.setRole(config.role)
            return MessageStore(config: config, log: log, index: index, lock: lock, logLock: logLock, logger: logger,
                                report: report, checkpoint: checkpoint)
        } catch {
            logLock?.release()
            lock.release()
            throw StoreError.wrap(error)
        }
    }

    private init(config: StoreConfig, log: CommitLog, index: any IndexStore, lock: FileLock, logLock: FileLock?, logger: Logger,
                 report: RecoveryReport, checkpoint: DispatchCheckpoint) {
        self.config = config
        self.log = log
        self.index = index
        self.lock = lock
        self.logLock = logLock
        self.logger = logger
        self.recovery = report
        disk = DiskSpaceMonitor(paths: config.commitLogLockPath == nil ? [config.root] : [config.commitLogPath, config.root],
                                policy: config.diskSpace)
        dispatcher = Dispatcher(log: log, index: index, batchLimit: config.dispatchBatchLimit,
                                derivation: config.derivation, from: checkpoint,
                                gatherMicros: config.dispatchGatherMicros, observer: config.observer)
        flusher = FlushService(log: log, index: index, mode: config.flushMode, async: config.asyncFlush,
                               flushed: log.writePosition, clock: config.clock, observer: config.observer)
    }

    // MARK: Starting

    /// Starts the background threads: dispatcher (log → indexes), flusher (durability), prefault (log pages),
    /// housekeeping (next segment, tail release, disk checks, retention, offset backup). Idempotent; a no-op
    /// once closed. Until then the store is recovered and readable, appends land in the log, and dispatch /
    /// durability waits park until the threads run; offline tools never start them.
    @discardableResult
    public func start() -> MessageStore {
        guard !isClosed.load(ordering: .acquiring), !started.exchange(true, ordering: .acquiringAndReleasing) else { return self }
        dispatcher.start()
        flusher.start()
        let window = config.prefaultWindowBytes, keep = config.residentTailBytes, cached = config.cachedLogBytes
        // The prefault follows the writer: every 20 ms while the log moves (and whenever a writer has written
        // another MiB: see `afterAppend`), once a second when it stands still (an idle store barely wakes). A
        // writer that outruns it faults its own pages. Its own thread in SCHED_IDLE: zero-filling new pages takes
        // up to ~10 µs a page on VMs, and one pass held a CPU for 25 ms that a woken event loop (or any other
        // process) then waited for. At idle priority every other thread's wake-up preempts it; it holds no lock
        // anyone waits on (the next segment is built by housekeeping, its pages faulted in here afterwards).
        let consumedKept = config.cachedConsumedLogBytes
        prefaulting.start { [log, flusher, index, consumedFloor] t in
            ThreadPriority.setCurrentToIdle()
            var lastSeen = log.writePosition
            while t.isRunning {
                let moved = log.writePosition != lastSeen
                lastSeen = log.writePosition
                t.sleep(maxMillis: moved || log.wantsNextSegment ? 20 : 1_000)
                // Before the prefault, so it takes the pages just freed.
                if let cached {
                    var keep = cached
                    // What the consumers still want, re-read every 2 s after the log or an offset moved.
                    if let consumedKept {
                        if let below = consumedFloor.current(index: index, log: log) {
                            keep = min(keep, max(consumedKept, Int(clamping: log.writePosition - below)))
                        }
                    }
                    log.dropCachedLog(flushed: flusher.flushed, keep: keep)
                }
                log.prefaultAhead(window: window)
                log.prefaultPreparedSegment(window: window)
            }
        }
        // Weak: a store nobody references any more closes itself (deinit) and stops this thread.
        housekeeping.start { [weak self, log, logger, flusher] t in
            var lastRetention = Clock.monotonicNanos()
            var lastBackup = Clock.monotonicNanos()
            var backedUp: [ConsumerOffsetKey: Int64]? = nil
            var lastSeen = log.writePosition
            while t.isRunning {
                // Tail release and the disk check follow the writer as the prefault does.
                let moved = log.writePosition != lastSeen
                lastSeen = log.writePosition
                t.sleep(maxMillis: moved || log.wantsNextSegment ? 20 : 1_000)
                log.releaseFlushedSegments(flushed: flusher.flushed)
                log.releaseActiveTail(flushed: flusher.flushed, keep: keep)
                // Every pass: a full disk is noticed before the writer needs the next segment, and sends
                // resume within a second of space coming back.
                let pressure = self?.checkDiskSpace() ?? .normal
                // Built here (a failed build is retried at most once a second), its pages faulted in by the
                // prefault thread: a writer that needs the segment waits for the build only.
                if log.wantsNextSegment, pressure < .full {
                    do { try log.prepareNextSegment() } catch {
                        logger.warning("could not prepare next segment", metadata: ["error": "\(error)"])
                    }
                }
                // Every 5 s.
                if Clock.monotonicNanos() - lastBackup > 5_000_000_000 {
                    lastBackup = Clock.monotonicNanos()
                    backedUp = self?.backUpOffsets(last: backedUp) ?? backedUp
                }
                // Every 10 s, every pass while the disk is under pressure.
                if pressure >= .forcible || Clock.monotonicNanos() - lastRetention > 10_000_000_000 {
                    lastRetention = Clock.monotonicNanos()
                    do { _ = try self?.runRetention() } catch {
                        logger.warning("retention failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
        return self
    }

    /// Whether `start()` ran (offline tools and a broker not yet running its services: false).
    public var isStarted: Bool { started.load(ordering: .acquiring) }

    // MARK: Appending

    /// Checks a draft against the store's limits (RocketMQ answers MESSAGE_ILLEGAL / body too large).
    public func validate(_ d: MessageDraft) throws(StoreError) {
        if d.body.count > config.maxMessageSize { throw .messageTooLarge(size: d.body.count, limit: config.maxMessageSize) }
        if d.topic.isEmpty || d.topic.count > RecordLayout.maxTopicLength {
            throw .messageIllegal("topic length \(d.topic.count) not in 1...\(RecordLayout.maxTopicLength)")
        }
        if d.properties.count > RecordLayout.maxPropertiesLength {
            throw .messageIllegal("properties length \(d.properties.count) > \(RecordLayout.maxPropertiesLength)")
        }
        if d.encodedSize > config.maxRecordSize { throw .messageTooLarge(size: d.encodedSize, limit: config.maxRecordSize) }
    }

    /// Appends one record and returns once it is in the mapping (not yet durable in sync mode; see
    /// `append(_:completion:)`).
    public func append(_ draft: MessageDraft) throws(StoreError) -> AppendResult {
        try validate(draft)
        guard !isClosed.load(ordering: .acquiring) else { throw .closed }
        if let why = flusher.failed { throw .writeFailed(why) }
        if let refusal = disk.refusal() { throw refusal }
        let r: AppendResult
        do { r = try log.append(draft, now: config.clock.wallMillis()) } catch { throw StoreError.wrap(error) }
        try afterAppend()
        return r
    }

    /// Wakes the dispatcher. Never waits: writers that must respect `maxDispatchLagBytes` check
    /// `isDispatchLagging` and pause themselves (network senders stop being read; see the broker's backpressure).
    func afterAppend() throws(StoreError) {
        dispatcher.wake()
        // Between housekeeping passes a fast writer reads the disk itself every `step` bytes (one statvfs, a few
        // µs): the refusal starts while at least half a segment is preallocated ahead, so the writer never meets
        // ENOSPC on the next segment however fast it appends. It also wakes housekeeping (which builds the next
        // segment) and the prefault thread, which must stay ahead: a writer that reaches pages not yet faulted in zero-fills them itself, one fault per page
        // on the append path (at 128 B records that was half of the append call's time under load).
        let step = Int64(min(1 << 20, config.segmentSize / 4))
        let pos = log.writePosition, last = diskCheckedAt.load(ordering: .relaxed)
        if pos - last >= step, diskCheckedAt.compareExchange(expected: last, desired: pos, ordering: .relaxed).exchanged {
            checkDiskSpace()
            housekeeping.wake()
            prefaulting.wake()
        }
        if let why = dispatcher.failed { throw .indexingStopped(why) }
    }

    /// Appends records in order with consecutive queue offsets (a batch send).
    public func append(batch drafts: [MessageDraft]) throws(StoreError) -> [AppendResult] {
        for d in drafts { try validate(d) }
        guard !isClosed.load(ordering: .acquiring) else { throw .closed }
        if let why = flusher.failed { throw .writeFailed(why) }
        if let refusal = disk.refusal() { throw refusal }
        let r: [AppendResult]
        do { r = try log.append(drafts, now: config.clock.wallMillis()) } catch { throw StoreError.wrap(error) }
        if !r.isEmpty { try afterAppend() }
        return r
    }

    /// Calls `completion(true)` when the log is durable up to `end` per the flush mode: at once in async mode,
    /// after the group commit in sync mode; `false` after the sync-flush timeout.
    public func whenDurable(_ end: Int64, _ completion: @escaping @Sendable (Durability) -> Void) {
        if case .async = config.flushMode { return completion(.durable) }
        flusher.whenFlushed(end, completion)
    }

    /// Appends and, in sync mode, waits for the group commit. Throws `.flushTimeout` when it times out
    /// (the record is stored).
    public func appendDurably(_ draft: MessageDraft) async throws(StoreError) -> AppendResult {
        let r = try append(draft)
        try await waitDurable(r.endOffset)
        return r
    }

    public func appendDurably(batch drafts: [MessageDraft]) async throws(StoreError) -> [AppendResult] {
        let r = try append(batch: drafts)
        if let last = r.last { try await waitDurable(last.endOffset) }
        return r
    }

    private static func check(_ outcome: Durability) throws(StoreError) {
        switch outcome {
        case .durable: return
        case .timedOut: throw .flushTimeout
        case let .failed(why): throw .writeFailed(why)
        }
    }

    private func waitDurable(_ end: Int64) async throws(StoreError) {
        let outcome = await withCheckedContinuation { (c: CheckedContinuation<Durability, Never>) in whenDurable(end) { c.resume(returning: $0) } }
        try Self.check(outcome)
    }

    /// Blocking variant for threads that are not in Swift concurrency (crash-test child, tools).
    public func appendDurablyBlocking(_ draft: MessageDraft) throws(StoreError) -> AppendResult {
        let r = try append(draft)
        let done = Mutex<Durability?>(nil)
        let sem = DispatchSemaphore(value: 0)
        whenDurable(r.endOffset) { ok in done.withLock { $0 = ok }; sem.signal() }
        sem.wait()
        try Self.check(done.withLock { $0 } ?? .timedOut)
        return r
    }

    // MARK: Positions

    /// First byte still in the log (after retention).
    public var minPhysicalOffset: Int64 { log.minOffset }
    /// Next append position: every record ends at or below it.
    public var maxPhysicalOffset: Int64 { log.writePosition }
    /// The indexes are complete below this offset.
    public var dispatchedOffset: Int64 { dispatcher.dispatched }
    /// Bytes appended but not yet indexed.
    public var dispatchLagBytes: Int64 { log.writePosition - dispatcher.dispatched }
    /// True while the indexes lag more than `maxDispatchLagBytes` behind the log: writers should pause
    /// (network senders stop reading) until a dispatch event shows the lag back under the limit.
    public var isDispatchLagging: Bool { dispatchLagBytes > config.maxDispatchLagBytes }
    /// The log is durable below this offset.
    public var flushedOffset: Int64 { flusher.flushed }
    /// The async flush's settings in force: `StoreConfig.asyncFlush` until `setAsyncFlush` changes them.
    public var asyncFlush: AsyncFlushSettings { flusher.asyncSettings }
    /// Changes the async flush's settings while the store runs (lock-free: the flush thread reads them every
    /// round; appends never touch them). Kept but unused in sync mode.
    public func setAsyncFlush(_ settings: AsyncFlushSettings) { flusher.setAsync(settings) }
    public var segments: [Segment] { log.segments }

    /// Calls `handler` on the dispatcher thread after every index batch that made records visible, with the
    /// touched queues' new max offsets. Handlers must be quick and never block (hand work to their own loop or
    /// task): they delay indexing for everyone. Any number of subscribers; each keeps its subscription and
    /// cancels it when it stops.
    public func subscribe(name: String, _ handler: @escaping @Sendable (DispatchEvent) -> Void) -> DispatchSubscription {
        let sub = DispatchSubscription(name: name, handler: handler, owner: dispatcher.subscribers)
        dispatcher.subscribers.add(sub)
        return sub
    }

    // MARK: Closing

    /// Stops the threads, dispatches and flushes everything, syncs and closes the index, releases the lock.
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        prefaulting.stop()
        housekeeping.stop()
        dispatcher.stop()
        do { try dispatcher.dispatchAvailable() } catch {
            logger.error("final dispatch failed", metadata: ["error": "\(error)"])
        }
        dispatcher.waiters.releaseAll()
        flusher.stop()
        do { try index.sync() } catch { logger.error("index sync failed", metadata: ["error": "\(error)"]) }
        _ = backUpOffsets(last: nil)
        index.close()
        logLock?.release()
        lock.release()
    }

    deinit { close() }
}
