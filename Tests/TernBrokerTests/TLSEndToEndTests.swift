import Foundation
import Logging
import NIOCore
import NIOPosix
import TernBroker
import TernClient
import TernNameServer
import TernTestSupport
import TernTransport
import Testing

/// Name server and broker with `tls.server.mode=enforcing`, the broker registering over TLS (`tls.enable`), and
/// TernClient with TLS creating a topic, sending and pulling: every hop encrypted.
@Suite struct TLSEndToEndTests {
    @Test func ternClientSendsAndPullsOverTLSOnly() async throws {
        let certs = try TestCertificates.make()
        defer { certs.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var tls = TLSConfig()
        for (k, v) in [("tls.server.mode", "enforcing"), ("tls.server.certPath", certs.serverCert),
                       ("tls.server.keyPath", certs.serverKeyEncrypted), ("tls.server.keyPassword", certs.keyPassword),
                       ("tls.enable", "true"), ("tls.client.trustCertPath", certs.caCert)] {
            _ = try tls.set(k, v)
        }
        var nsConfig = NameServerConfig()
        nsConfig.listenPort = 0
        nsConfig.tls = tls
        let ns = try await NameServer.start(config: nsConfig, group: group)
        let dir = NSTemporaryDirectory() + "tern-tls-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = BrokerConfig()
        config.storePathRootDir = dir
        config.listenHost = "127.0.0.1"
        config.listenPort = 0
        config.mappedFileSizeCommitLog = 64 << 20
        config.namesrvAddr = ["127.0.0.1:\(ns.port)"]
        config.tls = tls
        let broker = try await Broker.start(config: config, group: group, logger: Logger(label: "test.broker"))

        var options = ClientOptions(nameServer: "127.0.0.1:\(ns.port)")
        try options.enableTLS(trustCertPath: certs.caCert)
        let runtime = ClientRuntime(options: options, group: group)
        let admin = AdminClient(runtime: runtime)
        // The broker's registration went over TLS: the name server lists it.
        var masters: [String] = []
        for _ in 0..<200 where masters.isEmpty {
            masters = (try? await admin.masterAddresses(cluster: nil)) ?? []
            if masters.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(masters == [broker.context.config.brokerAddress])
        try await admin.createTopic("TLS_T", readQueues: 1, writeQueues: 1)
        // The broker re-registers (over TLS) after the topic change; the route appears on the name server then.
        var routed = false
        for _ in 0..<200 where !routed {
            routed = (try? await admin.route(topic: "TLS_T")) != nil
            if !routed { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(routed)

        let producer = Producer(runtime: runtime)
        for i in 0..<5 { _ = try await producer.send(topic: "TLS_T", body: Array("secret-\(i)".utf8)) }
        let consumer = PullConsumer(runtime: runtime, group: "TLS_G")
        let queue = try #require(try await consumer.queues(topic: "TLS_T").first)
        let pulled = try await consumer.pull(queue: queue, offset: 0)
        #expect(pulled.messages.map { String(decoding: $0.body, as: UTF8.self) } == (0..<5).map { "secret-\($0)" })

        // A plain client gets nothing from either port.
        var plain = ClientOptions(nameServer: "127.0.0.1:\(ns.port)")
        plain.requestTimeout = .seconds(2)
        let plainRuntime = ClientRuntime(options: plain, group: group)
        await #expect(throws: (any Error).self) { _ = try await AdminClient(runtime: plainRuntime).topicList() }
        plainRuntime.shutdown()

        runtime.shutdown()
        await broker.shutdown()
        await ns.shutdown()
        try await group.shutdownGracefully()
    }
}
