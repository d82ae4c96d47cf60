import Logging
import Synchronization
import TernStorage
import TernSystem

/// Consumer offsets: primary state, kept in the store's index environment (LMDB).
///
/// Commits come from event loops (every pull's commit flag, UPDATE_CONSUMER_OFFSET), which must never wait
/// for the LMDB write lock. `commit` only records the offset as pending and wakes the writer, a
/// `TimerService` that writes everything pending in one write transaction per batch, at most one batch per
/// `coalesceMillis`; commits arriving while a batch is written or the window runs coalesce into the next one
/// (the last value per queue wins). Queries see pending and in-flight values at once. Consumers re-send
/// unchanged offsets constantly (every pull, every 5 s persist), so a commit equal to the value known to be
/// stored is dropped before it costs a write.
///
/// Durability: a graceful stop writes what is pending (the writer's `onStop`, which runs after in-flight
/// requests are drained and before the store closes). A broker crash (`kill -9`) loses only the commits not
/// yet written by the writer: those acknowledged since its last batch started, at most `coalesceMillis` plus
/// a batch's write time worth (the written ones are in the page cache). A machine crash also loses what the
/// last index sync did not cover (README, "Indexes").
///
/// Removal (`remove(group:)`, DELETE_SUBSCRIPTIONGROUP with `removeOffset`) goes through the same writer: it
/// drops the group's pending commits at once and the writer deletes the group's stored offsets before it writes
/// any commit that arrived later, so a commit made after the removal survives it.
///
/// Invariant: `written` only holds values known to be in the store; `pending` and `inFlight` are disjoint
/// in time, not in keys (a key in both has its newer value in `pending`). Removals are ordered the same way:
/// `removing` is newer than `inFlight` and older than `pending`; `removingInFlight` is older than `inFlight`.
final class OffsetService: Sendable {
    private struct State {
        var pending: [ConsumerOffsetKey: Int64] = [:]
        /// The batch the writer is writing now (empty otherwise).
        var inFlight: [ConsumerOffsetKey: Int64] = [:]
        var written: [ConsumerOffsetKey: Int64] = [:]
        /// Groups to remove in the next batch, and who waits for that.
        var removing: Set<String> = []
        var removalWaiters: [@Sendable (Bool) -> Void] = []
        /// Groups the writer removes now (before it writes `inFlight`).
        var removingInFlight: Set<String> = []

        enum Known { case value(Int64), removed, store }

        /// What the service knows about `key` that the store may not have yet, newest first.
        func known(_ key: ConsumerOffsetKey) -> Known {
            if let v = pending[key] { return .value(v) }
            if removing.contains(key.group) { return .removed }
            if let v = inFlight[key] { return .value(v) }
            if removingInFlight.contains(key.group) { return .removed }
            return .store
        }
    }

    /// A failed batch is retried after this long (its offsets stay pending, newer commits win).
    static let retryMillis: Int64 = 1_000

    let store: MessageStore
    private let logger: Logger
    private let state = Mutex(State())
    private let writer = Mutex<TimerService?>(nil)

    init(store: MessageStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Batches written less than this long apart wait for the rest of it: a stream of commits (a consumer at a
    /// queue's tail commits with every pull, thousands per second) costs at most one write transaction per
    /// window instead of one per commit, each a writer wake-up and a turn at the index's write lock the
    /// dispatcher also needs. A commit after a quiet spell is written at once.
    static let coalesceMillis: Int64 = 10

    /// The writer service: writes pending commits when woken (at most one batch per `coalesceMillis`), and once
    /// more when it stops.
    func service(clock: any TernClock, events: LifecycleEvents?) -> TimerService {
        let lastBatch = Mutex<Int64?>(nil)
        let service = TimerService(name: "offset-writer", clock: clock, events: events, step: { [self] now in
            if let last = lastBatch.withLock({ $0 }), now >= last, now < last + Self.coalesceMillis {
                return last + Self.coalesceMillis
            }
            guard hasPending else { return nil }
            lastBatch.withLock { $0 = now }
            return writePending() ? nil : now + Self.retryMillis
        }, onStop: { [self] in
            if !writePending() { logger.error("consumer offsets lost at shutdown: the final write failed") }
        })
        writer.withLock { $0 = service }
        return service
    }

    /// Commits or removals not handed to the writer yet.
    var hasPending: Bool { state.withLock { !$0.pending.isEmpty || !$0.removing.isEmpty } }

    /// Records `offset` for `group` on `queue`; never blocks (event loops call it).
    func commit(group: String, queue: QueueKey, offset: Int64) {
        let key = ConsumerOffsetKey(group: group, queue: queue)
        let wake = state.withLock { s -> Bool in
            switch s.known(key) {
            case .value(let v) where v == offset: return false
            case .store where s.written[key] == offset: return false
            default: break
            }
            let wasIdle = s.pending.isEmpty && s.removing.isEmpty
            s.pending[key] = offset
            return wasIdle
        }
        if wake { writer.withLock { $0 }?.wake() }
    }

    func committed(group: String, queue: QueueKey) -> Int64? {
        let key = ConsumerOffsetKey(group: group, queue: queue)
        switch state.withLock({ $0.known(key) }) {
        case .value(let offset): return offset
        case .removed: return nil
        case .store: return try? store.consumerOffset(group: group, queue: queue)
        }
    }

    /// Removes every committed offset of `group` (all topics, its retry topic included), as Java's
    /// `ConsumerOffsetManager.removeOffset`; never blocks. `done` runs on the writer once the offsets are deleted
    /// from the index and its backup (true), or the delete failed (false: the offsets are kept).
    func remove(group: String, done: @escaping @Sendable (Bool) -> Void) {
        let wake = state.withLock { s -> Bool in
            let wasIdle = s.pending.isEmpty && s.removing.isEmpty
            s.pending = s.pending.filter { $0.key.group != group }
            s.written = s.written.filter { $0.key.group != group }
            s.removing.insert(group)
            s.removalWaiters.append(done)
            return wasIdle
        }
        if wake { writer.withLock { $0 }?.wake() }
    }

    /// Every committed offset, pending ones included.
    func all() -> [ConsumerOffsetKey: Int64] {
        merged((try? store.consumerOffsets()) ?? [:], group: nil)
    }

    /// One group's offsets as ``all()`` shows them, read from the group's key range only.
    func all(group: String) -> [ConsumerOffsetKey: Int64] {
        merged((try? store.consumerOffsets(group: group)) ?? [:], group: group)
    }

    /// Stored offsets overlaid with removals and commits not written yet (of `group` only, when given).
    private func merged(_ stored: [ConsumerOffsetKey: Int64], group: String?) -> [ConsumerOffsetKey: Int64] {
        var offsets = stored
        let mine: (ConsumerOffsetKey) -> Bool = { key in group.map { key.group == $0 } ?? true }
        state.withLock { s in
            offsets = offsets.filter { !s.removingInFlight.contains($0.key.group) }
            offsets.merge(s.inFlight.filter { mine($0.key) }) { _, new in new }
            offsets = offsets.filter { !s.removing.contains($0.key.group) }
            offsets.merge(s.pending.filter { mine($0.key) }) { _, new in new }
        }
        return offsets
    }

    /// Deletes the groups being removed, then writes the pending commits in one transaction; false when the
    /// commits could not be written (they stay pending). Runs on the writer's task only, so at most one batch is
    /// in flight.
    @discardableResult
    func writePending() -> Bool {
        let (batch, groups, waiters) = state.withLock { s in
            precondition(s.inFlight.isEmpty && s.removingInFlight.isEmpty, "one offset batch at a time")
            s.inFlight = s.pending
            s.pending = [:]
            s.removingInFlight = s.removing
            s.removing = []
            defer { s.removalWaiters = [] }
            return (s.inFlight, s.removingInFlight, s.removalWaiters)
        }
        if !groups.isEmpty {
            let removed: Bool
            do {
                let count = try store.removeConsumerOffsets(groups: groups)
                logger.info("consumer offsets removed", metadata: ["groups": "\(groups.sorted())", "offsets.count": "\(count)"])
                removed = true
            } catch {
                logger.warning("cannot remove consumer offsets", metadata: ["groups": "\(groups.sorted())", "error": "\(error)"])
                removed = false
            }
            state.withLock { $0.removingInFlight = [] }
            for done in waiters { done(removed) }
        }
        if batch.isEmpty { return true }
        do {
            try store.commitConsumerOffsets(batch)
        } catch {
            logger.warning("cannot write consumer offsets", metadata: [
                "offsets.count": "\(batch.count)", "error": "\(error)",
            ])
            state.withLock { s in
                s.pending.merge(s.inFlight) { newer, _ in newer }
                s.inFlight = [:]
            }
            return false
        }
        state.withLock { s in
            s.written.merge(s.inFlight) { _, new in new }
            s.inFlight = [:]
        }
        return true
    }
}
