import NIOCore
import Synchronization

/// What a SYNC_MASTER send learns about its replication.
public enum ReplicationOutcome: Sendable, Equatable {
    /// Acknowledged as the policy requires (a slave; with `allAckInSyncStateSet` every in-sync member).
    case acked
    /// No slave is connected, or the best one lags more than `haSlaveFallbehindMax` (SLAVE_NOT_AVAILABLE).
    case slaveNotAvailable
    /// Not acknowledged within `slaveTimeout` (FLUSH_SLAVE_TIMEOUT).
    case timeout
}

/// Each connected slave's acknowledged offset, the in-sync set, and the sends waiting for acknowledgement:
/// group-committed like flush waits, so one report releases every waiter at or below it (RocketMQ's
/// `GroupTransferService`).
///
/// What releases a waiter at `offset`:
/// - default (RocketMQ 4): the best slave's ack ≥ offset; no slave, or the best one more than
///   `fallbehindMax` behind, answers `.slaveNotAvailable` at once;
/// - `allAckInSyncStateSet` (RocketMQ 5): every in-sync member's ack ≥ offset. With the set = {master} a send
///   is acknowledged at once (RocketMQ 5 with `minInSyncReplicas` = 1): the set is what the election may
///   choose from, so a lone master loses nothing acknowledged by failing over to a member.
///
/// Cost per send: one array append under the mutex. Timeouts need no timer per send: waiters are kept in
/// arrival order, so deadlines ascend and one sweep, scheduled at the oldest waiter's deadline, expires them.
/// Callbacks run on the waiter's event loop (its connection's), one hop per loop for all released together.
///
/// Thread-safety: all state under one mutex; callbacks run outside it.
public final class ReplicationAcks: Sendable {
    public struct SlaveAck: Sendable, Equatable {
        public var link: Int
        public var peer: String
        public var acked: Int64
        /// The master's end at this slave's previous report (the catch-up mark for joining the set).
        var masterEndAtReport: Int64 = .max
    }

    private struct Waiter {
        var offset: Int64
        var deadline: NIODeadline
        var loop: any EventLoop
        var done: @Sendable (ReplicationOutcome) -> Void
    }

    private struct State {
        var slaves: [Int: SlaveAck] = [:]
        var inSync: Set<Int> = []
        var masterOffset: Int64 = 0
        /// In arrival order, hence by ascending deadline.
        var waiters: [Waiter] = []
        /// A sweep is scheduled (at or before the oldest waiter's deadline).
        var sweeping = false
        var nextId = 0
        var watchers: [Int: AsyncStream<InSyncSet>.Continuation] = [:]
        var bestAcked: Int64 { slaves.values.lazy.map(\.acked).max() ?? -1 }

        var inSyncSet: InSyncSet {
            InSyncSet(replicas: inSync.sorted().compactMap { slaves[$0] }.map { .init(link: $0.link, peer: $0.peer, acked: $0.acked) },
                      masterOffset: masterOffset)
        }
    }

    public let policy: AckPolicy
    private let state = Mutex(State())

    public init(policy: AckPolicy = AckPolicy()) {
        self.policy = policy
    }

    /// The connected slaves and their acknowledged offsets.
    public var slaves: [SlaveAck] { state.withLock { Array($0.slaves.values).sorted { $0.link < $1.link } } }
    /// The highest offset any slave acknowledged (-1 with none connected).
    public var bestAcked: Int64 { state.withLock { $0.bestAcked } }
    /// Sends waiting for an acknowledgement now.
    public var waitingCount: Int { state.withLock { $0.waiters.count } }
    /// The in-sync set now.
    public var inSync: InSyncSet { state.withLock { $0.inSyncSet } }

    /// The in-sync set now, then each time its membership changes (the election publishes these). Ends when
    /// the caller stops iterating; only the newest unread value is kept.
    public func inSyncChanges() -> AsyncStream<InSyncSet> {
        let (stream, continuation) = AsyncStream<InSyncSet>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s in
            s.nextId += 1
            s.watchers[s.nextId] = continuation
            continuation.yield(s.inSyncSet)
            return s.nextId
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) } }
        return stream
    }

    func connected(link: Int, peer: String) {
        state.withLock { $0.slaves[link] = SlaveAck(link: link, peer: peer, acked: -1) }
    }

    func disconnected(link: Int) {
        update { s in
            s.slaves.removeValue(forKey: link)
            s.inSync.remove(link)
        }
    }

    /// Records a slave's report (the master's end is `masterEnd`), updates the set, releases waiters.
    func acknowledged(link: Int, offset: Int64, masterEnd: Int64) {
        update { s in
            guard var slave = s.slaves[link] else { return }
            slave.acked = offset
            if offset >= min(slave.masterEndAtReport, masterEnd) { s.inSync.insert(link) }
            slave.masterEndAtReport = masterEnd
            s.slaves[link] = slave
            s.masterOffset = masterEnd
        }
    }

    /// Drops the members that fell more than `maxGapNotInSync` behind `masterEnd` (a link tick calls it).
    func check(masterEnd: Int64) {
        update { s in s.masterOffset = masterEnd }
    }

    /// Applies `change`, evicts members beyond the gap, releases waiters now covered and tells watchers when
    /// the membership changed.
    private func update(_ change: (inout State) -> Void) {
        let (released, changed, watchers): ([Waiter], InSyncSet?, [AsyncStream<InSyncSet>.Continuation]) = state.withLock { s in
            let before = s.inSync
            change(&s)
            s.inSync = s.inSync.filter { id in s.slaves[id].map { s.masterOffset - $0.acked <= policy.maxGapNotInSync } ?? false }
            let floor = releaseFloor(s)
            let done = s.waiters.filter { $0.offset <= floor }
            s.waiters.removeAll { $0.offset <= floor }
            let changed = s.inSync == before ? nil : s.inSyncSet
            return (done, changed, changed == nil ? [] : Array(s.watchers.values))
        }
        if let changed { for w in watchers { w.yield(changed) } }
        Self.deliver(released, .acked)
    }

    /// Calls each waiter's callback on its event loop: directly when already there, else one hop per loop.
    private static func deliver(_ waiters: [Waiter], _ outcome: ReplicationOutcome) {
        var rest = waiters
        while let loop = rest.first?.loop {
            let batch = rest.filter { $0.loop === loop }
            rest.removeAll { $0.loop === loop }
            if loop.inEventLoop {
                for w in batch { w.done(outcome) }
            } else {
                loop.execute { for w in batch { w.done(outcome) } }
            }
        }
    }

    /// Every waiter at or below this offset is acknowledged.
    private func releaseFloor(_ s: State) -> Int64 {
        guard policy.allAckInSyncStateSet else { return s.bestAcked }
        return s.inSync.compactMap { s.slaves[$0]?.acked }.min() ?? .max
    }

    /// Calls `done` on `loop` once the record ending at `offset` is acknowledged as the policy requires, or with
    /// `.slaveNotAvailable` / `.timeout` (after `policy.timeout`). `masterEnd` decides whether a slave is
    /// available at all (RocketMQ's `HAService.isSlaveOK`). An answer known at once is given on the caller's
    /// thread. Spawns no task.
    public func whenAcked(_ offset: Int64, masterEnd: Int64, on loop: any EventLoop,
                          _ done: @escaping @Sendable (ReplicationOutcome) -> Void) {
        enum Admission { case acked, unavailable, wait, waitAndSweep(NIODeadline) }
        let admission: Admission = state.withLock { s in
            if !policy.allAckInSyncStateSet {
                guard !s.slaves.isEmpty, masterEnd - max(s.bestAcked, 0) < policy.fallbehindMax else { return .unavailable }
            }
            if releaseFloor(s) >= offset { return .acked }
            // Read under the lock: arrival order is deadline order.
            let deadline = NIODeadline.now() + TimeAmount(policy.timeout)
            s.waiters.append(Waiter(offset: offset, deadline: deadline, loop: loop, done: done))
            if s.sweeping { return .wait }
            s.sweeping = true
            return .waitAndSweep(deadline)
        }
        switch admission {
        case .acked: done(.acked)
        case .unavailable: done(.slaveNotAvailable)
        case .wait: break
        case let .waitAndSweep(deadline): scheduleSweep(at: deadline, on: loop)
        }
    }

    private func scheduleSweep(at deadline: NIODeadline, on loop: any EventLoop) {
        loop.scheduleTask(deadline: deadline) { self.sweep(on: loop) }
    }

    /// Expires the waiters whose deadline passed, then sleeps until the oldest one left (if any) is due.
    private func sweep(on loop: any EventLoop) {
        let (expired, next): ([Waiter], NIODeadline?) = state.withLock { s in
            let now = NIODeadline.now()
            let due = s.waiters.firstIndex { $0.deadline > now } ?? s.waiters.count
            let expired = Array(s.waiters[..<due])
            s.waiters.removeFirst(due)
            guard let oldest = s.waiters.first else {
                s.sweeping = false
                return (expired, nil)
            }
            return (expired, oldest.deadline)
        }
        if let next { scheduleSweep(at: next, on: loop) }
        Self.deliver(expired, .timeout)
    }

    /// ``whenAcked(_:masterEnd:on:_:)`` for async callers (tests).
    public func waitForAck(_ offset: Int64, masterEnd: Int64, on loop: any EventLoop) async -> ReplicationOutcome {
        await withCheckedContinuation { continuation in
            whenAcked(offset, masterEnd: masterEnd, on: loop) { continuation.resume(returning: $0) }
        }
    }
}
