import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import Testing

/// Held pulls are answered by the dispatch event that indexes their message: never by the hold's own timer.
@Suite struct PullWakeTests {
    /// `operation`'s result, or nil when `seconds` pass first (the operation is then cancelled).
    private static func within<T: Sendable>(seconds: Double,
                                            _ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask { try await Task.sleep(for: .seconds(seconds)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func heldPullIsAnsweredByTheDispatchEventNotItsTimer() async throws {
        let f = try await BrokerFixture.start { $0.longPollingMaxMillis = 60_000 }
        try f.createTopic("T")
        let c = try await f.connect()
        let pull = try await f.suspendedPull("T", queueId: 1, offset: 0, suspendMillis: 60_000, on: c)
        #expect(!pull.isDone)
        try f.put("T", queueId: 1, body: "wake")
        // The hold's timer would answer after 60 s (and with nothing); the deadline is far below that.
        let r = try await Self.within(seconds: 10) { try await pull.value }
        #expect(r?.code == ResponseCode.success)
        #expect(r.map { decodeRecords($0.body).map(\.body) } == ["wake"])
        await f.stop()
    }

    @Test func holdsOnSeveralQueuesAreEachWokenByTheirOwnMessage() async throws {
        let f = try await BrokerFixture.start { $0.longPollingMaxMillis = 60_000 }
        try f.createTopic("T", queues: 4)
        let c = try await f.connect()
        var pulls: [InFlight] = []
        for q in Int32(0) ..< 4 { pulls.append(try await f.suspendedPull("T", queueId: q, offset: 0, suspendMillis: 60_000, on: c)) }
        for q in Int32(0) ..< 4 { try f.put("T", queueId: q, body: "q\(q)") }
        for (q, pull) in pulls.enumerated() {
            let r = try await Self.within(seconds: 10) { try await pull.value }
            #expect(r?.code == ResponseCode.success)
            #expect(r.map { decodeRecords($0.body).map(\.body) } == ["q\(q)"])
        }
        await f.stop()
    }
}
