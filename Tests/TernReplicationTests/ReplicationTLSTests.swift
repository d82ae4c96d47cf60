import Foundation
import NIOCore
import NIOPosix
import Testing
import TernStorage
import TernTestSupport
import TernTransport
@testable import TernReplication

/// The HA link with TLS: the master's port in enforcing mode, the slave connecting with TLS.
@Suite struct ReplicationTLSTests {
    @Test func slaveStreamsOverTLSAndPlainPeersGetNothing() async throws {
        let certs = try TestCertificates.make()
        defer { certs.remove() }
        var server = TLSServerSettings()
        server.mode = .enforcing
        server.certPath = certs.serverCert
        server.keyPath = certs.serverKey
        var client = TLSClientSettings()
        client.enabled = true
        client.trustCertPath = certs.caCert

        let masterDir = StoreDirectory("tls-master"), slaveDir = StoreDirectory("tls-slave")
        defer { masterDir.cleanup(); slaveDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        let slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        defer { master.close(); slave.close() }
        try appendRecords(master, count: 50)

        var masterConfig = testHAConfig()
        masterConfig.tlsServer = try server.makeServer()
        let group = MultiThreadedEventLoopGroup.singleton
        let service = try await HAService.bind(store: master, config: masterConfig, group: group, logger: testLogger)
        let serving = Task { _ = try? await service.run() }
        var slaveConfig = testHAConfig()
        slaveConfig.tlsClient = try client.makeClient()
        let follower = HAClient(store: slave, config: slaveConfig, group: group, logger: testLogger,
                                masterAddress: { "127.0.0.1:\(service.port)" })
        let following = Task { _ = try? await follower.run() }

        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        expectSameSegments(master: master, slave: slave)

        // A plain peer's offset report is not a TLS handshake: the master closes the link without a byte.
        let peer = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: service.port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let received = try await peer.executeThenClose { inbound, outbound in
            var report = ByteBuffer()
            HAProtocol.writeReport(0, to: &report)
            try await outbound.write(report)
            var total = 0
            for try await bytes in inbound { total += bytes.readableBytes }
            return total
        }
        #expect(received == 0)

        following.cancel()
        await following.value
        serving.cancel()
        await serving.value
    }
}
