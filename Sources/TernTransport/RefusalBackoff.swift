import NIOCore
import Synchronization

/// Tern's choice (RocketMQ has none): a connection whose requests the ACL keeps refusing (broker or name server) is served
/// ``threshold`` requests per pause, so one connection's flood of forged requests cannot keep an event loop
/// busy for the connections that share it. After every ``threshold`` consecutive refusals the connection pauses
/// for ``firstPauseNanos``, doubling at each pause up to ``maxPauseNanos``: its reads stop (NIO autoRead off)
/// and the requests it already sent in the same read burst wait, in order, until the pause ends. One admitted
/// request forgets the record. A client with a wrong secret thus still gets every answer, later; a flooder gets
/// at most `threshold` answers per `maxPauseNanos`.
///
/// Cost when nobody is refused: one relaxed atomic load per request (the lock is skipped while no connection has
/// a record). Every method runs on the connection's event loop; the lock guards the shared table only.
public final class RefusalBackoff: Sendable {
    /// Refusals served between pauses: a client starting with a wrong key gets its first answers at full speed.
    public static let threshold = 16
    public static let firstPauseNanos: Int64 = 1_000_000
    public static let maxPauseNanos: Int64 = 64_000_000

    private struct Record {
        var refusals = 0
        var pauses = 0
        var paused = false
        /// Requests read before the pause took effect, in arrival order.
        var waiting = CircularBuffer<@Sendable () -> Void>()
    }

    private let records = Mutex<[ObjectIdentifier: Record]>([:])
    /// `records.count`, readable without the lock.
    private let recordCount = Atomic<Int>(0)

    public init() {}

    /// False while no connection has a record (``holds(_:_:)`` would then be false for all).
    public var isTracking: Bool { recordCount.load(ordering: .relaxed) > 0 }

    /// True when `connection` is paused or has requests waiting: `request` then waits behind them.
    public func holds(_ connection: RemotingConnection, _ request: @escaping @Sendable () -> Void) -> Bool {
        records.withLock { records in
            let id = ObjectIdentifier(connection)
            guard let record = records[id], record.paused || !record.waiting.isEmpty else { return false }
            records[id]!.waiting.append(request)
            return true
        }
    }

    /// A request from `connection` was refused: every `threshold` refusals pause it.
    public func refused(_ connection: RemotingConnection) {
        let pause: Int64? = records.withLock { records in
            var record = records[ObjectIdentifier(connection)] ?? Record()
            record.refusals += 1
            var pause: Int64? = nil
            if record.refusals % Self.threshold == 0, !record.paused {
                pause = min(Self.maxPauseNanos, Self.firstPauseNanos << min(record.pauses, 20))
                record.pauses += 1
                record.paused = true
            }
            records[ObjectIdentifier(connection)] = record
            recordCount.store(records.count, ordering: .relaxed)
            return pause
        }
        guard let pause else { return }
        connection.pauseReading(.refusals)
        connection.channel.eventLoop.scheduleTask(in: .nanoseconds(pause)) { [self] in resume(connection) }
    }

    /// A request from `connection` was admitted: its record (if any) is forgotten once nothing waits.
    public func admitted(_ connection: RemotingConnection) {
        guard recordCount.load(ordering: .relaxed) > 0 else { return }
        records.withLock { records in
            let id = ObjectIdentifier(connection)
            guard let record = records[id] else { return }
            if record.paused || !record.waiting.isEmpty {
                records[id]!.refusals = 0
                records[id]!.pauses = 0
            } else {
                records[id] = nil
                recordCount.store(records.count, ordering: .relaxed)
            }
        }
    }

    /// `connection` closed: waiting requests are dropped (their answers could not be written).
    public func closed(_ connection: RemotingConnection) {
        records.withLock { records in
            guard records.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
            recordCount.store(records.count, ordering: .relaxed)
        }
    }

    /// The pause ended: runs the waiting requests in order until one pauses the connection again; reading
    /// resumes when none is left.
    private func resume(_ connection: RemotingConnection) {
        let id = ObjectIdentifier(connection)
        guard records.withLock({ $0[id]?.paused = false; return $0[id] != nil }) else {
            return connection.resumeReading(.refusals)  // closed meanwhile
        }
        while let next = records.withLock({ records -> (@Sendable () -> Void)? in
            guard let record = records[id], !record.paused, !record.waiting.isEmpty else { return nil }
            return records[id]!.waiting.popFirst()
        }) {
            next()
        }
        let pausedAgain = records.withLock { records in
            guard let record = records[id] else { return false }
            if !record.paused, record.refusals == 0 {
                records[id] = nil
                recordCount.store(records.count, ordering: .relaxed)
            }
            return record.paused
        }
        if !pausedAgain { connection.resumeReading(.refusals) }
    }

}
