import NIOCore
import Synchronization
import TernTransport

/// Tern's choice (RocketMQ has none): a connection whose requests the ACL keeps refusing is read ever more
/// slowly, so one connection's flood of forged requests cannot keep an event loop busy for the connections
/// that share it. After ``threshold`` consecutive refusals its reads pause (NIO autoRead off, requests already
/// read are still answered) for ``firstPauseNanos``, doubling at each further pause up to ``maxPauseNanos``;
/// one admitted request forgets its record. A client with a wrong secret thus still gets every answer, later.
///
/// Cost when nobody is refused: one relaxed atomic load per admitted request (``admitted(_:)`` skips the lock
/// while no connection has a record).
final class RefusalBackoff: Sendable {
    /// Consecutive refusals before the first pause: a client starting with a wrong key gets its first answers
    /// at full speed (heartbeats, route queries, a few sends).
    static let threshold = 16
    static let firstPauseNanos: Int64 = 1_000_000
    static let maxPauseNanos: Int64 = 1_000_000_000

    private struct Record {
        var refusals = 0
        var pauses = 0
        var paused = false
    }

    private let records = Mutex<[ObjectIdentifier: Record]>([:])
    /// `records.count`, readable without the lock.
    private let recordCount = Atomic<Int>(0)

    init() {}

    /// A request from `connection` was refused: may pause its reads. Runs on the connection's event loop.
    func refused(_ connection: RemotingConnection) {
        let pause: Int64? = records.withLock { records in
            var record = records[ObjectIdentifier(connection)] ?? Record()
            record.refusals += 1
            var pause: Int64? = nil
            if record.refusals >= Self.threshold, !record.paused {
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
        connection.channel.eventLoop.scheduleTask(in: .nanoseconds(pause)) { [self] in
            records.withLock { records in records[ObjectIdentifier(connection)]?.paused = false }
            connection.resumeReading(.refusals)
        }
    }

    /// A request from `connection` was admitted: its record (if any) is forgotten.
    func admitted(_ connection: RemotingConnection) {
        guard recordCount.load(ordering: .relaxed) > 0 else { return }
        forget(connection)
    }

    /// `connection` closed.
    func closed(_ connection: RemotingConnection) {
        forget(connection)
    }

    /// Connections with a record (tests, statistics).
    var trackedCount: Int { recordCount.load(ordering: .relaxed) }

    /// A pause already scheduled still ends on time (its resume needs no record).
    private func forget(_ connection: RemotingConnection) {
        records.withLock { records in
            guard records.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
            recordCount.store(records.count, ordering: .relaxed)
        }
    }
}
