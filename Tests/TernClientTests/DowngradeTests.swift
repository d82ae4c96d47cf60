import NIOCore
import NIOPosix
@testable import TernClient
import TernProtocol
import TernRemoting
import Testing

/// Two in-process clusters (a name server and a broker each): the primary's broker fails sends while `healthy`
/// is false.
@Suite struct DowngradeTests {
    let group = MultiThreadedEventLoopGroup.singleton

    private struct Clusters {
        let primaryBroker: FakeServer, primaryNS: FakeServer, standbyBroker: FakeServer, standbyNS: FakeServer
        func stop() async {
            for s in [primaryBroker, primaryNS, standbyBroker, standbyNS] { await s.stop() }
        }
    }

    private func clusters(healthy: Locked<Bool>) async throws -> Clusters {
        let ok = Canned.sendAnswer(storeHost: "127.0.0.1:10911")
        let primaryBroker = try await FakeServer.start(group: group) { request in
            healthy.withLock { $0 } ? ok(request) : Canned.response(ResponseCode.systemError, remark: "down")
        }
        let standbyBroker = try await FakeServer.start(group: group, answer: Canned.sendAnswer(storeHost: "127.0.0.1:20911"))
        return Clusters(
            primaryBroker: primaryBroker,
            primaryNS: try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: primaryBroker.address)),
            standbyBroker: standbyBroker,
            standbyNS: try await FakeServer.start(group: group, answer: Canned.nameServer(topic: "T", brokerAddress: standbyBroker.address)))
    }

    private func producer(_ c: Clusters, threshold: Int, retryAfter: TimeAmount) -> (ClientRuntime, DowngradingProducer) {
        let runtime = ClientRuntime(options: ClientOptions.forTests(nameServer: c.primaryNS.address), group: group)
        var options = ProducerOptions()
        options.retries = 0
        return (runtime, DowngradingProducer(runtime: runtime, options: options, downgrade: DowngradeOptions(
            standbyNameServer: c.standbyNS.address, failureThreshold: threshold, primaryRetryAfter: retryAfter)))
    }

    /// Below the threshold a failure reaches the caller; the send that reaches it goes to the standby, and so
    /// do the next ones (the primary is not asked meanwhile).
    @Test func switchesAfterConsecutiveFailures() async throws {
        let healthy = Locked(false)
        let c = try await clusters(healthy: healthy)
        let (runtime, producer) = self.producer(c, threshold: 2, retryAfter: .seconds(3600))
        await #expect(throws: (any Error).self) { try await producer.send(topic: "T", body: [1]) }
        #expect(!producer.isDowngraded)
        _ = try await producer.send(topic: "T", body: [2])
        #expect(producer.isDowngraded)
        _ = try await producer.send(topic: "T", body: [3])
        healthy.withLock { $0 = true }
        _ = try await producer.send(topic: "T", body: [4])
        #expect(producer.sent.primary == 0 && producer.sent.standby == 3)
        #expect(c.primaryBroker.requests(code: RequestCode.sendMessageV2).count == 2)
        #expect(c.standbyBroker.requests(code: RequestCode.sendMessageV2).count == 3)
        producer.shutdown()
        runtime.shutdown()
        await c.stop()
    }

    /// A success on the primary resets the count: failures must be consecutive; after `primaryRetryAfter`
    /// the primary is used again.
    @Test func successResetsAndPrimaryIsRetried() async throws {
        let healthy = Locked(true)
        let c = try await clusters(healthy: healthy)
        let (runtime, producer) = self.producer(c, threshold: 2, retryAfter: .zero)
        _ = try await producer.send(topic: "T", body: [1])
        healthy.withLock { $0 = false }
        await #expect(throws: (any Error).self) { try await producer.send(topic: "T", body: [2]) }
        healthy.withLock { $0 = true }
        _ = try await producer.send(topic: "T", body: [3])
        healthy.withLock { $0 = false }
        await #expect(throws: (any Error).self) { try await producer.send(topic: "T", body: [4]) }
        #expect(producer.sent.primary == 2 && producer.sent.standby == 0)
        _ = try await producer.send(topic: "T", body: [5])
        #expect(producer.sent.primary == 2 && producer.sent.standby == 1)
        healthy.withLock { $0 = true }
        _ = try await producer.send(topic: "T", body: [6])
        #expect(producer.sent.primary == 3 && producer.sent.standby == 1)
        producer.shutdown()
        runtime.shutdown()
        await c.stop()
    }
}
