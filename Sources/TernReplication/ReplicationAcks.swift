import Synchronization

/// What a SYNC_MASTER send learns about its replication.
public enum ReplicationOutcome: Sendable, Equatable {
    /// A slave acknowledged the record's end.
    case acked
    /// No slave is connected, or the best one lags more than `haSlaveFallbehindMax` (SLAVE_NOT_AVAILABLE).
    case slaveNotAvailable
    /// No slave acknowledged within `slaveTimeout` (FLUSH_SLAVE_TIMEOUT).
    case timeout
}

/// Each connected slave's acknowledged offset and the sends waiting for one: group-committed like flush waits,
/// so one report releases every waiter at or below it (RocketMQ's `GroupTransferService`).
///
/// Thread-safety: all state under one mutex; continuations are resumed outside it.
public final class ReplicationAcks: Sendable {
    public struct SlaveAck: Sendable, Equatable {
        public var link: Int
        public var peer: String
        public var acked: Int64
    }

    private struct Waiter {
        var id: Int
        var offset: Int64
        var continuation: CheckedContinuation<ReplicationOutcome, Never>
    }

    private struct State {
        var slaves: [Int: SlaveAck] = [:]
        var waiters: [Waiter] = []
        var nextId = 0
        /// Waiters whose timeout fired before they were queued (a timeout shorter than a thread hop).
        var expiredEarly: Set<Int> = []
        var bestAcked: Int64 { slaves.values.map(\.acked).max() ?? -1 }
    }

    private let state = Mutex(State())

    public init() {}

    /// The connected slaves and their acknowledged offsets.
    public var slaves: [SlaveAck] { state.withLock { Array($0.slaves.values).sorted { $0.link < $1.link } } }
    /// The highest offset any slave acknowledged (-1 with none connected).
    public var bestAcked: Int64 { state.withLock { $0.bestAcked } }

    /// Sends waiting for an acknowledgement now.
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    func connected(link: Int, peer: String) {
        state.withLock { $0.slaves[link] = SlaveAck(link: link, peer: peer, acked: -1) }
    }

    func disconnected(link: Int) {
        state.withLock { _ = $0.slaves.removeValue(forKey: link) }
    }

    /// Records a slave's report and releases every waiter at or below the best acknowledged offset.
    func acknowledged(link: Int, offset: Int64) {
        let released: [Waiter] = state.withLock { s in
            s.slaves[link]?.acked = offset
            let best = s.bestAcked
            let done = s.waiters.filter { $0.offset <= best }
            s.waiters.removeAll { $0.offset <= best }
            return done
        }
        for w in released { w.continuation.resume(returning: .acked) }
    }

    /// Waits until a slave acknowledged `offset` (a record's end), at most `timeout`. `masterEnd` and
    /// `fallbehindMax` decide whether a slave is available at all, as RocketMQ's `HAService.isSlaveOK`.
    public func waitForAck(_ offset: Int64, masterEnd: Int64, fallbehindMax: Int64,
                           timeout: Duration) async -> ReplicationOutcome {
        enum Admission { case acked, unavailable, wait(Int) }
        let admission: Admission = state.withLock { s in
            guard !s.slaves.isEmpty, masterEnd - max(s.bestAcked, 0) < fallbehindMax else { return .unavailable }
            if s.bestAcked >= offset { return .acked }
            s.nextId += 1
            return .wait(s.nextId)
        }
        let id: Int
        switch admission {
        case .acked: return .acked
        case .unavailable: return .slaveNotAvailable
        case let .wait(waiterId): id = waiterId
        }
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let now: ReplicationOutcome? = state.withLock { s in
                if s.bestAcked >= offset { return .acked }
                if s.expiredEarly.remove(id) != nil { return .timeout }
                s.waiters.append(Waiter(id: id, offset: offset, continuation: continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    private func expire(_ id: Int) {
        let expired = state.withLock { s -> Waiter? in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else {
                s.expiredEarly.insert(id)
                return nil
            }
            return s.waiters.remove(at: i)
        }
        expired?.continuation.resume(returning: .timeout)
    }
}
