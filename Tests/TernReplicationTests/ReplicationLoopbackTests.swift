import Foundation
import NIOCore
import NIOPosix
import Testing
import TernStorage
@testable import TernReplication

/// A master store + HAService and a slave store + HAClient over loopback, with 64 KiB segments and 1000-byte
/// chunks (so chunks cut records and blank fillers): the slave's log must end byte-identical and its own
/// indexes identical.
@Suite struct ReplicationLoopbackTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func slaveStreamsWhileMasterAppends() async throws {
        let masterDir = StoreDirectory("master"), slaveDir = StoreDirectory("slave")
        defer { masterDir.cleanup(); slaveDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        let slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        defer { master.close(); slave.close() }
        try appendRecords(master, count: 20)  // within the first segment: the empty slave starts at 0
        let link = try await ReplicationLink.start(master: master, slave: slave)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        try appendRecords(master, count: 380, from: 20)
        #expect(master.segments.count >= 3)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        #expect(await eventually { link.service.acks.bestAcked == master.maxPhysicalOffset })
        await link.stop()
        #expect(slave.segments.first?.base == 0)
        expectSameSegments(master: master, slave: slave)
        try expectSameIndexes(master: master, slave: slave)
        #expect(link.client.linksOpened == 1)
    }

    @Test func restartedSlaveCatchesUp() async throws {
        let masterDir = StoreDirectory("master"), slaveDir = StoreDirectory("slave")
        defer { masterDir.cleanup(); slaveDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        defer { master.close() }
        var slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        var link = try await ReplicationLink.start(master: master, slave: slave)
        try appendRecords(master, count: 120)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        await link.stopFollowing()
        slave.close()
        #expect(await eventually { link.service.acks.slaves.isEmpty })

        try appendRecords(master, count: 200, from: 120)
        slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        defer { slave.close() }
        (link.client, link.following) = ReplicationLink.follow(link.service, with: slave)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        await link.stop()
        expectSameSegments(master: master, slave: slave)
        try expectSameIndexes(master: master, slave: slave)
    }

    /// RocketMQ's rule: a slave reporting 0 gets the log from the start of the master's newest segment.
    @Test func emptySlaveStartsAtNewestSegment() async throws {
        let masterDir = StoreDirectory("master"), slaveDir = StoreDirectory("slave")
        defer { masterDir.cleanup(); slaveDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        let slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        defer { master.close(); slave.close() }
        try appendRecords(master, count: 300)
        let newest = try #require(master.segments.last).base
        #expect(newest > 0)
        let link = try await ReplicationLink.start(master: master, slave: slave)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        try appendRecords(master, count: 100, from: 300)
        #expect(await eventually { slave.replicationOffset == master.maxPhysicalOffset })
        await link.stop()
        #expect(slave.segments.first?.base == newest)
        expectSameSegments(master: master, slave: slave)
        try expectSameIndexes(master: master, slave: slave, allQueues: false)
    }

    /// A peer claiming more log than the master holds is dropped; the master keeps serving others.
    @Test func slaveAheadOfMasterIsDropped() async throws {
        let masterDir = StoreDirectory("master")
        defer { masterDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader)).start()
        defer { master.close() }
        try appendRecords(master, count: 10)
        let service = try await HAService.bind(store: master, config: testHAConfig(), group: group, logger: testLogger)
        let serving = Task { _ = try? await service.run() }
        defer { serving.cancel() }
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: service.port).get()
        var report = ByteBuffer()
        HAProtocol.writeReport(master.maxPhysicalOffset + 1, to: &report)
        try await channel.writeAndFlush(report)
        let closed = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { try await channel.closeFuture.get(); return true }
            tasks.addTask { try await Task.sleep(for: .seconds(10)); return false }
            let first = try await tasks.next()!
            tasks.cancelAll()
            return first
        }
        #expect(closed)
        #expect(await eventually { service.acks.slaves.isEmpty })
        try? await channel.close()
    }
}
