import Foundation
import NIOCore
import NIOPosix
import Testing
import TernStorage
@testable import TernReplication

/// The master's transfer is woken by the append itself, not by indexing: a SYNC_MASTER send waits for a
/// slave's ack only, never for a dispatch batch.
@Suite struct ReplicationWakeTests {
    let group = MultiThreadedEventLoopGroup.singleton

    /// The master's store is never started, so its dispatcher never runs (no dispatch event, nothing indexed);
    /// heartbeats and the link's tick are a minute apart. Each append must still reach the slave and be
    /// acknowledged within the SYNC timeout (3 s).
    @Test func transferStartsBeforeIndexing() async throws {
        let masterDir = StoreDirectory("master"), slaveDir = StoreDirectory("slave")
        defer { masterDir.cleanup(); slaveDir.cleanup() }
        let master = try MessageStore.open(masterDir.config(role: .leader))
        let slave = try MessageStore.open(slaveDir.config(role: .follower)).start()
        defer { master.close(); slave.close() }
        var config = testHAConfig()
        config.heartbeatInterval = .seconds(60)
        config.housekeepingInterval = .seconds(120)
        let service = try await HAService.bind(store: master, config: config, group: group, logger: testLogger)
        let serving = Task { _ = try? await service.run() }
        let client = HAClient(store: slave, config: config, group: group, logger: testLogger,
                              masterAddress: { "127.0.0.1:\(service.port)" })
        let following = Task { _ = try? await client.run() }
        #expect(await eventually { service.acks.bestAcked >= 0 })
        for round in 0..<5 {
            try appendRecords(master, count: 3, from: round * 3)
            let end = master.maxPhysicalOffset
            let outcome = await service.acks.waitForAck(end, masterEnd: end, on: group.next())
            #expect(outcome == .acked, "round \(round)")
            #expect(slave.replicationOffset == end)
        }
        #expect(master.dispatchedOffset == 0)
        following.cancel()
        await following.value
        serving.cancel()
        await serving.value
        expectSameSegments(master: master, slave: slave)
    }
}
