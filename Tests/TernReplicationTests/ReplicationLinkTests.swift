import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TernStorage
@testable import TernReplication

/// Link upkeep: heartbeats on an idle link, a silent slave dropped, a slave surviving its master's restart.
@Suite struct ReplicationLinkTests {
    /// A raw peer reporting the master's end gets empty frames (heartbeats at that offset) while the log is idle,
    /// and is dropped once it stays silent for `housekeepingInterval`.
    @Test func idleLinkGetsHeartbeatsAndSilentSlaveIsDropped() async throws {
        let dir = StoreDirectory("master")
        defer { dir.cleanup() }
        let master = try MessageStore.open(dir.config(role: .leader)).start()
        defer { master.close() }
        try appendRecords(master, count: 5)
        var config = testHAConfig()
        config.heartbeatInterval = .milliseconds(100)
        config.housekeepingInterval = .milliseconds(800)
        let service = try await HAService.bind(store: master, config: config, group: .singletonMultiThreadedEventLoopGroup,
                                               logger: testLogger)
        let serving = Task { _ = try? await service.run() }
        defer { serving.cancel() }
        let peer = try await ClientBootstrap(group: .singletonMultiThreadedEventLoopGroup)
            .connect(host: "127.0.0.1", port: service.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let end = master.maxPhysicalOffset
        let (heartbeats, closedAfter) = try await peer.executeThenClose { inbound, outbound in
            var report = ByteBuffer()
            HAProtocol.writeReport(end, to: &report)
            try await outbound.write(report)
            let start = ContinuousClock.now
            var received = ByteBuffer()
            for try await bytes in inbound {  // ends when the master closes the link
                var bytes = bytes
                received.writeBuffer(&bytes)
            }
            return (received, start.duration(to: .now))
        }
        #expect(heartbeats.readableBytes >= 2 * HAProtocol.transferHeaderSize)
        #expect(heartbeats.readableBytes % HAProtocol.transferHeaderSize == 0)
        var frames = heartbeats
        while frames.readableBytes >= HAProtocol.transferHeaderSize {
            #expect(frames.readInteger(as: Int64.self) == end)
            #expect(frames.readInteger(as: Int32.self) == 0)
        }
        #expect(closedAfter >= .milliseconds(800))
        #expect(await eventually { service.acks.slaves.isEmpty })
    }

    /// The slave reconnects to a master that came back (on another port here) and catches up.
    @Test func slaveSurvivesMasterRestart() async throws {
        let masterDir = StoreDirectory("master"), slaveDir = StoreDirectory("slave")
        defer { masterDir.cleanup(); slaveDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        let slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        defer { master.close(); slave.close() }
        let group = MultiThreadedEventLoopGroup.singleton
        let address = Mutex<String?>(nil)
        var service = try await HAService.bind(store: master, config: testHAConfig(), group: group, logger: testLogger)
        var serving = Task { [service] in _ = try? await service.run() }
        address.withLock { [port = service.port] in $0 = "127.0.0.1:\(port)" }
        let client = HAClient(store: slave, config: testHAConfig(), group: group, logger: testLogger,
                              masterAddress: { address.withLock { $0 } })
        let following = Task { _ = try? await client.run() }
        try appendRecords(master, count: 100)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })

        serving.cancel()
        await serving.value
        #expect(await eventually { !client.isConnected })
        try appendRecords(master, count: 150, from: 100)
        service = try await HAService.bind(store: master, config: testHAConfig(), group: group, logger: testLogger)
        serving = Task { [service] in _ = try? await service.run() }
        address.withLock { [port = service.port] in $0 = "127.0.0.1:\(port)" }
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        #expect(client.linksOpened >= 2)
        following.cancel()
        serving.cancel()
        await following.value
        await serving.value
        expectSameSegments(master: master, slave: slave)
        try expectSameIndexes(master: master, slave: slave)
    }
}
