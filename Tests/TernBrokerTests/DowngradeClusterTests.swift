import Foundation
import NIOCore
import NIOPosix
@testable import TernBroker
import TernClient
import TernNameServer
import Testing

/// NetEase's downgrade path against two real clusters (a name server and a broker each, over loopback): when
/// the primary's broker dies, sends move to the standby cluster after `failureThreshold` failures, and every
/// acknowledged send is stored in the cluster that acknowledged it.
@Suite struct DowngradeClusterTests {
    /// A cluster's name server, broker and `topic` created through the admin API, routed by the name server.
    private static func cluster(_ name: String, topic: String, group: any EventLoopGroup) async throws
        -> (NameServer, BrokerFixture, String) {
        let ns = try await startLocalNameServer(group: group)
        let nsAddress = "127.0.0.1:\(ns.port)"
        let f = try await BrokerFixture.start {
            $0.namesrvAddr = [nsAddress]
            $0.brokerName = name
            $0.brokerClusterName = name
        }
        let runtime = ClientRuntime(options: ClientOptions(nameServer: nsAddress), group: group)
        defer { runtime.shutdown() }
        let admin = AdminClient(runtime: runtime)
        try await admin.createTopic(topic, readQueues: 2, writeQueues: 2, brokerAddress: f.address)
        var routed = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !routed, ContinuousClock.now < deadline {
            routed = !((try? await admin.route(topic: topic))?.writeQueues.isEmpty ?? true)
            if !routed { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(routed, "the \(name) name server never routed \(topic)")
        return (ns, f, nsAddress)
    }

    @Test func sendsMoveToTheStandbyClusterWhenThePrimaryDies() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (primaryNS, primary, primaryAddress) = try await Self.cluster("primary", topic: "T", group: group)
        let (standbyNS, standby, standbyAddress) = try await Self.cluster("standby", topic: "T", group: group)
        var options = ClientOptions(nameServer: primaryAddress)
        options.requestTimeout = .seconds(2)
        let runtime = ClientRuntime(options: options, group: group)
        let producer = DowngradingProducer(runtime: runtime, downgrade: DowngradeOptions(
            standbyNameServer: standbyAddress, failureThreshold: 2, primaryRetryAfter: .seconds(60)))

        for i in 0..<5 { _ = try await producer.send(topic: "T", body: Array("p\(i)".utf8)) }
        #expect(producer.sent.primary == 5 && producer.sent.standby == 0 && !producer.isDowngraded)
        #expect(try TransactionTests.messages(primary, "T").count == 5)

        await primary.stop()
        var failures = 0
        var acknowledged: [String] = []
        for i in 0..<6 {
            let body = "s\(i)"
            do {
                _ = try await producer.send(topic: "T", body: Array(body.utf8))
                acknowledged.append(body)
            } catch {
                failures += 1
            }
        }
        // The first failure is the caller's; the second reaches the threshold and goes to the standby.
        #expect(failures == 1, "failures: \(failures)")
        #expect(producer.isDowngraded && producer.sent.standby == acknowledged.count && acknowledged.count == 5)
        let stored = try TransactionTests.messages(standby, "T").map { String(decoding: $0.body, as: UTF8.self) }
        #expect(stored.sorted() == acknowledged.sorted())

        producer.shutdown()
        runtime.shutdown()
        await standby.stop()
        await primaryNS.shutdown()
        await standbyNS.shutdown()
        try? await group.shutdownGracefully()
    }
}
