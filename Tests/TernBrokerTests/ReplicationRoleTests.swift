import Foundation
import NIOCore
import NIOPosix
import Testing
import TernBroker
import TernNameServer
import TernRemoting
import TernStorage

/// Broker roles end to end in process: a SYNC_MASTER and a SLAVE that learns its master's HA address from the
/// name server's registration answer.
@Suite struct ReplicationRoleTests {
    static func send(_ f: BrokerFixture, _ body: String, topic: String = "R") async throws -> RemotingCommand {
        try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: topic, queueId: 0), body: SendFrames.buffer(body))
    }

    /// No slave connected: the send is stored and answered SLAVE_NOT_AVAILABLE (11), as RocketMQ's `isSlaveOK`.
    @Test func syncMasterWithoutSlaveAnswersSlaveNotAvailable() async throws {
        let f = try await BrokerFixture.start { $0.brokerRole = .syncMaster }
        let r = try await Self.send(f, "alone")
        #expect(r.code == ResponseCode.slaveNotAvailable)
        #expect(r.extFields["msgId"] != nil)
        #expect(f.broker.store.maxPhysicalOffset > 0)
        await f.stop()
    }

    @Test func asyncMasterNeverWaits() async throws {
        let f = try await BrokerFixture.start { $0.brokerRole = .asyncMaster }
        #expect(try await Self.send(f, "fast").code == ResponseCode.success)
        await f.stop()
    }

    /// The slave follows the master the name server names; sync sends are acknowledged by it; the slave
    /// refuses sends itself.
    @Test func slaveFollowsMasterLearnedFromRegistration() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ns = try await startLocalNameServer(group: group)
        let nsAddress = "127.0.0.1:\(ns.port)"
        let master = try await BrokerFixture.start {
            $0.namesrvAddr = [nsAddress]
            $0.brokerRole = .syncMaster
        }
        #expect(try await Self.send(master, "before").code == ResponseCode.slaveNotAvailable)
        let slave = try await BrokerFixture.start {
            $0.namesrvAddr = [nsAddress]
            $0.brokerRole = .slave
            $0.brokerId = 1
            $0.haSendHeartbeatInterval = 200
        }
        #expect(slave.broker.store.role == .follower)
        #expect(await eventually(timeoutMillis: 10_000) {
            slave.broker.store.replicationOffset == master.broker.store.maxPhysicalOffset
        })
        let r = try await Self.send(master, "acknowledged")
        #expect(r.code == ResponseCode.success)
        #expect(slave.broker.store.replicationOffset == master.broker.store.maxPhysicalOffset)
        // A topic the master never had: the slave's metadata sync copies "R" from the master at any moment.
        let refused = try await Self.send(slave, "refused", topic: "OnlySentToTheSlave")
        #expect(refused.code == ResponseCode.serviceNotAvailable)
        #expect(refused.remark?.contains("messages are put to the slave") == true)
        #expect(slave.broker.context.topics.config("OnlySentToTheSlave") == nil)  // refused before any topic was created
        await slave.stop()
        await master.stop()
        await ns.shutdown()
        try? await group.shutdownGracefully()
    }
}

extension ReplicationRoleTests {
    /// `slaveReadEnable=false` (RocketMQ's default): a slave answers pulls PULL_RETRY_IMMEDIATELY pointing back at
    /// the requested offset; with `true` the pull is served (here: the topic is unknown to this slave).
    @Test(arguments: [false, true])
    func slaveServesPullsOnlyWhenSlaveReadIsEnabled(enabled: Bool) async throws {
        let slave = try await BrokerFixture.start {
            $0.brokerRole = .slave
            $0.brokerId = 1
            $0.slaveReadEnable = enabled
        }
        let r = try await slave.pull("T", offset: 7, suspendMillis: 0)
        if enabled {
            #expect(r.code == ResponseCode.topicNotExist)
        } else {
            #expect(r.code == ResponseCode.pullRetryImmediately)
            #expect(r.extFields.int64("nextBeginOffset") == 7 && r.extFields.int64("suggestWhichBrokerId") == 0)
        }
        await slave.stop()
    }

    /// A master tells a consumer further behind the log's end than `accessMessageInMemoryMaxRatio` % of RAM to
    /// pull from slave 1, only with `slaveReadEnable` (ratio 0: any record after the pulled one is "too far").
    @Test(arguments: [false, true])
    func laggingConsumerIsPointedAtTheSlaveOnlyWithSlaveRead(enabled: Bool) async throws {
        let master = try await BrokerFixture.start {
            $0.slaveReadEnable = enabled
            $0.accessMessageInMemoryMaxRatio = 0
        }
        try master.createTopic("T", queues: 1)
        try master.createTopic("U", queues: 1)
        try master.put("T", body: "first")
        try master.put("U", body: "later, elsewhere in the log")
        let lagging = try await master.pull("T", offset: 0, suspendMillis: 0)
        #expect(lagging.code == ResponseCode.success)
        #expect(lagging.extFields.int64("suggestWhichBrokerId") == (enabled ? 1 : 0))
        let caughtUp = try await master.pull("U", offset: 0, suspendMillis: 0)
        #expect(caughtUp.code == ResponseCode.success)
        #expect(caughtUp.extFields.int64("suggestWhichBrokerId") == 0)
        await master.stop()
    }
}

/// A name server on 127.0.0.1:<free port>.
func startLocalNameServer(group: any EventLoopGroup) async throws -> NameServer {
    var config = NameServerConfig()
    config.listenHost = "127.0.0.1"
    config.listenPort = 0
    return try await NameServer.start(config: config, group: group)
}
