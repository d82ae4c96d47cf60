import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TernStorage
@testable import TernReplication

/// Link upkeep: heartbeats on an idle link, a silent slave dropped, a slave surviving its master's restart, a live
/// link moved to another master when the address changes.
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
        let stores = try StorePair()
        defer { stores.close() }
        let master = stores.master, slave = stores.slave
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

    /// A change of master address (a planned switch) ends the live link at once, long before the old master
    /// would fall silent: once `masterAddressChanged()` returns the old master has lost its slave, and the client
    /// follows the new master. Two HA servers over one store stand for two masters holding the same log.
    @Test func liveLinkMovesToTheNewMasterAtOnce() async throws {
        let stores = try StorePair()
        defer { stores.close() }
        let master = stores.master, slave = stores.slave
        let group = MultiThreadedEventLoopGroup.singleton
        let old = try await HAService.bind(store: master, config: testHAConfig(), group: group, logger: testLogger)
        let new = try await HAService.bind(store: master, config: testHAConfig(), group: group, logger: testLogger)
        let servingOld = Task { _ = try? await old.run() }, servingNew = Task { _ = try? await new.run() }
        let address = Mutex<String>("127.0.0.1:\(old.port)")
        let client = HAClient(store: slave, config: testHAConfig(), group: group, logger: testLogger,
                              masterAddress: { address.withLock { $0 } })
        let following = Task { _ = try? await client.run() }
        try appendRecords(master, count: 100)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset && old.acks.slaves.count == 1 })

        address.withLock { $0 = "127.0.0.1:\(new.port)" }
        await client.masterAddressChanged()
        // The old link has ended on the client's side; the old master notices the close within moments (its
        // housekeeping, 5 s here, is not what ends it).
        #expect(await eventually(.seconds(2)) { old.acks.slaves.isEmpty })
        #expect(await eventually(.seconds(2)) { new.acks.slaves.count == 1 })
        try appendRecords(master, count: 50, from: 100)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        #expect(old.acks.slaves.isEmpty && client.linksOpened == 2)
        // Unchanged address: the live link stays.
        await client.masterAddressChanged()
        #expect(client.isConnected && client.linksOpened == 2)
        following.cancel()
        servingOld.cancel()
        servingNew.cancel()
        await following.value
        await servingOld.value
        await servingNew.value
        expectSameSegments(master: master, slave: slave)
    }
}
