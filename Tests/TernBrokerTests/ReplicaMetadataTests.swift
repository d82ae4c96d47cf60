import NIOCore
import NIOPosix
import Testing
import TernBroker
import TernNameServer
import TernProtocol
import TernRemoting
import TernReplication
import TernStorage

/// What a replica reads from its master over the broker port: the epoch history and in-sync set
/// (GET_BROKER_EPOCH_CACHE), and the metadata a slave copies (topics, consumer offsets, delay progress,
/// subscription groups).
@Suite struct ReplicaMetadataTests {
    @Test func slaveCopiesMasterMetadataAndReadsItsEpochs() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ns = try await startLocalNameServer(group: group)
        let nsAddress = "127.0.0.1:\(ns.port)"
        let master = try await BrokerFixture.start {
            $0.namesrvAddr = [nsAddress]
            $0.brokerRole = .syncMaster
            $0.allAckInSyncStateSet = true
        }
        try master.broker.context.replication.epochs.begin(epoch: 1, at: 0)
        try master.createTopic("Synced")
        let committed = try await master.call(RequestCode.updateConsumerOffset,
                                              ["consumerGroup": "G", "topic": "Synced", "queueId": "2", "commitOffset": "17"])
        #expect(committed.code == ResponseCode.success)
        let subGroup = try await master.call(200, body: JSONBody.encode(SubscriptionGroupConfig(groupName: "SG", retryMaxTimes: 3)))
        #expect(subGroup.code == ResponseCode.success)
        // allAckInSyncStateSet with the set = {master}: acknowledged at once, no slave needed.
        #expect(try await ReplicationRoleTests.send(master, "alone").code == ResponseCode.success)

        let slave = try await BrokerFixture.start {
            $0.namesrvAddr = [nsAddress]
            $0.brokerRole = .slave
            $0.brokerId = 1
            $0.haSendHeartbeatInterval = 200
        }
        let slaveContext = slave.broker.context
        #expect(await eventually(timeoutMillis: 10_000) { slaveContext.topics.config("Synced") != nil })
        #expect(await eventually(timeoutMillis: 10_000) {
            (try? slave.broker.store.consumerOffset(group: "G", queue: QueueKey(topic: "Synced", queueId: 2))) == 17
        })
        #expect(slaveContext.topics.dataVersion == master.broker.context.topics.dataVersion)
        #expect(await eventually(timeoutMillis: 10_000) { slaveContext.groups.all.subscriptionGroupTable["SG"]?.retryMaxTimes == 3 })
        #expect(slaveContext.groups.all == master.broker.context.groups.all)

        // The caught-up slave joins the in-sync set; a SYNC send then waits for it and is acknowledged.
        let acks = try #require(master.broker.context.replication.master?.acks)
        #expect(await eventually(timeoutMillis: 10_000) { acks.inSync.replicas.count == 1 })
        #expect(try await ReplicationRoleTests.send(master, "replicated").code == ResponseCode.success)
        #expect(slave.broker.store.replicationOffset == master.broker.store.maxPhysicalOffset)

        let masterAddress = try #require(slaveContext.replication.masterBrokerAddress)
        let cache = try await slaveContext.replication.masterClient.epochCache(at: masterAddress)
        #expect(cache.epochs == [EpochEntry(epoch: 1, startOffset: 0)])
        #expect(cache.epochList.last?.endOffset == cache.maxOffset)
        #expect(cache.maxOffset == master.broker.store.maxPhysicalOffset)
        let linkAddress = try #require(slaveContext.replication.slave?.linkAddress)
        #expect(cache.syncStateSet?.map(\.haAddress) == [linkAddress])

        await slave.stop()
        #expect(await eventually(timeoutMillis: 10_000) { acks.inSync.replicas.isEmpty })
        await master.stop()
        await ns.shutdown()
        try? await group.shutdownGracefully()
    }
}
