import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import Testing

@Suite struct LockTests {
    private func lock(_ f: BrokerFixture, _ client: String, _ queues: [Int], unlock: Bool = false) async throws -> [Int] {
        let body = LockBatchRequestBody(consumerGroup: "OG", clientId: client,
                                        mqSet: queues.map { MessageQueue(topic: "T", brokerName: "broker-a", queueId: $0) })
        let r = try await f.call(unlock ? RequestCode.unlockBatchMQ : RequestCode.lockBatchMQ, body: JSONBody.encode(body))
        #expect(r.code == ResponseCode.success)
        if unlock { return [] }
        return try JSONBody.decode(LockBatchResponseBody.self, from: r.body).lockOKMQSet.map(\.queueId)
    }

    @Test func grantConflictRenewAndUnlock() async throws {
        let f = try await BrokerFixture.start()
        #expect(try await lock(f, "A", [0, 1]) == [0, 1])
        #expect(try await lock(f, "B", [1, 2]) == [2])
        // The holder renews its own locks.
        #expect(try await lock(f, "A", [0, 1, 2]) == [0, 1])
        // Unlocking someone else's queue does nothing; the holder's unlock frees it.
        _ = try await lock(f, "B", [1], unlock: true)
        #expect(try await lock(f, "B", [1]) == [])
        _ = try await lock(f, "A", [1], unlock: true)
        #expect(try await lock(f, "B", [1]) == [1])
        await f.stop()
    }

    @Test func expiredLeasesCanBeTaken() async throws {
        let f = try await BrokerFixture.start { $0.lockMaxLiveTimeMillis = 4_000 }
        #expect(try await lock(f, "A", [0]) == [0])
        #expect(try await lock(f, "B", [0]) == [])
        try await Task.sleep(nanoseconds: 4_300_000_000)
        #expect(try await lock(f, "B", [0]) == [0])
        #expect(try await lock(f, "A", [0]) == [])
        await f.stop()
    }

    @Test func leaseArithmetic() {
        let m = LockManager(leaseMillis: 60_000)
        let q = [MessageQueue(topic: "T", brokerName: "b", queueId: 0), MessageQueue(topic: "T", brokerName: "b", queueId: 1)]
        #expect(m.tryLock(group: "G", clientId: "A", queues: q, now: 0) == q)
        #expect(m.tryLock(group: "G", clientId: "B", queues: q, now: 60_000).isEmpty)
        // Another group is independent.
        #expect(m.tryLock(group: "H", clientId: "B", queues: q, now: 1) == q)
        // A renews queue 1 only; queue 0 expires.
        #expect(m.tryLock(group: "G", clientId: "A", queues: [q[1]], now: 30_000) == [q[1]])
        #expect(m.tryLock(group: "G", clientId: "B", queues: q, now: 60_001) == [q[0]])
        #expect(m.holder(group: "G", queue: q[1], now: 60_001) == "A")
        #expect(m.holder(group: "G", queue: q[1], now: 90_001) == nil)
    }

    @Test func cppLockBodyWithNumericQueueIds() async throws {
        let f = try await BrokerFixture.start()
        let json = #"{"clientId":"C","consumerGroup":"OG","mqSet":[{"brokerName":"broker-a","queueId":3,"topic":"T"}]}"#
        let r = try await f.call(RequestCode.lockBatchMQ, body: ByteBuffer(string: json))
        #expect(r.code == ResponseCode.success)
        let text = r.body.map { String(buffer: $0) } ?? ""
        #expect(text.contains(#""queueId":3"#))
        #expect(try await f.call(RequestCode.lockBatchMQ).code == ResponseCode.systemError)
        await f.stop()
    }
}
