import Foundation
import NIOCore
import Synchronization
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernSystem
import TernTransport
import Testing

@Suite struct HeartbeatTests {
    private func consumerIds(_ f: BrokerFixture, _ group: String) async throws -> RemotingCommand {
        try await f.call(RequestCode.getConsumerListByGroup, ["consumerGroup": group])
    }

    @Test func heartbeatsRegisterConsumersAndTheRetryTopic() async throws {
        let f = try await BrokerFixture.start()
        var r = try await consumerIds(f, "CG")
        #expect(r.code == ResponseCode.systemError)
        #expect(r.remark == "no consumer for this group, CG")

        let a = try await f.connect(), b = try await f.connect()
        #expect(try await f.heartbeat(clientId: "2-10.0.0.2@DEFAULT", on: a).code == ResponseCode.success)
        #expect(try await f.heartbeat(clientId: "1-10.0.0.1@DEFAULT", on: b).code == ResponseCode.success)
        // Repeated heartbeats do not duplicate a client.
        #expect(try await f.heartbeat(clientId: "1-10.0.0.1@DEFAULT", on: b).code == ResponseCode.success)
        r = try await consumerIds(f, "CG")
        #expect(r.code == ResponseCode.success)
        let list = try JSONBody.decode(ConsumerListBody.self, from: r.body)
        #expect(list.consumerIdList == ["1-10.0.0.1@DEFAULT", "2-10.0.0.2@DEFAULT"])

        let retry = try #require(f.broker.context.topics.config("%RETRY%CG"))
        #expect(retry.readQueueNums == 1 && retry.writeQueueNums == 1)

        // Connection list (203) names both clients with their language.
        r = try await f.call(ConsumerRequestCode.getConsumerConnectionList, ["consumerGroup": "CG"])
        #expect(r.code == ResponseCode.success)
        let conns = try JSONBody.decode(ConsumerConnectionBody.self, from: r.body)
        #expect(conns.connectionSet.map(\.clientId) == ["1-10.0.0.1@DEFAULT", "2-10.0.0.2@DEFAULT"])
        #expect(conns.connectionSet.allSatisfy { $0.language == "CPP" })
        #expect(conns.subscriptionTable["T"] != nil)
        a.close()
        b.close()
        await f.stop()
    }

    @Test func producerOnlyHeartbeatRegistersNoConsumer() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        let body = #"{"clientID":"p1","producerDataSet":[{"groupName":"PG"}]}"#
        #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: body), on: c).code == ResponseCode.success)
        #expect(try await consumerIds(f, "PG").code == ResponseCode.systemError)
        #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: "{not json"), on: c).code == ResponseCode.systemError)
        c.close()
        await f.stop()
    }

    @Test func groupMembersAreNotifiedWhenClientsJoinAndLeave() async throws {
        let f = try await BrokerFixture.start()
        let recorder = PushRecorder()
        let a = try await RemotingClient.connect(to: f.address, group: f.group, handler: recorder)
        _ = try await f.heartbeat(clientId: "A", on: a)
        #expect(await eventually { recorder.notifications("CG") == 1 })

        // B joins: A hears about it.
        let b = try await f.connect()
        _ = try await f.heartbeat(clientId: "B", on: b)
        #expect(await eventually { recorder.notifications("CG") == 2 })
        let notice = try #require(recorder.requests.last)
        #expect(notice.isOneway)
        #expect(notice.code == RequestCode.notifyConsumerIdsChanged)

        // A heartbeat that changes nothing notifies nobody.
        _ = try await f.heartbeat(clientId: "B", on: b)
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(recorder.notifications("CG") == 2)

        // B unregisters (empty producerGroup = absent).
        var u: RemotingExtFields = ["clientID": "B", "producerGroup": "", "consumerGroup": "CG"]
        #expect(try await f.call(RequestCode.unregisterClient, u, on: b).code == ResponseCode.success)
        #expect(await eventually { recorder.notifications("CG") == 3 })
        let ids = try JSONBody.decode(ConsumerListBody.self, from: try await consumerIds(f, "CG").body)
        #expect(ids.consumerIdList == ["A"])

        // C joins then its connection closes.
        let c = try await f.connect()
        _ = try await f.heartbeat(clientId: "C", on: c)
        #expect(await eventually { recorder.notifications("CG") == 4 })
        c.close()
        #expect(await eventually { recorder.notifications("CG") == 5 })
        #expect(try JSONBody.decode(ConsumerListBody.self, from: try await consumerIds(f, "CG").body).consumerIdList == ["A"])

        // Unregistering a group one is not in changes nothing.
        u["consumerGroup"] = "Other"
        #expect(try await f.call(RequestCode.unregisterClient, u, on: b).code == ResponseCode.success)
        a.close()
        b.close()
        await f.stop()
    }

    @Test func silentClientsExpire() async throws {
        let f = try await BrokerFixture.start()
        let a = try await f.connect(), b = try await f.connect()
        let registry = ClientRegistry()
        func client(_ id: String, _ c: RemotingConnection, at t: Int64) -> ClientRegistry.Client {
            ClientRegistry.Client(clientId: id, channel: c, language: .cpp, version: 64, lastUpdate: t)
        }
        let data = ConsumerData(groupName: "G", subscriptionDataSet: [SubscriptionData(topic: "T")])
        #expect(registry.registerConsumer(data, client: client("A", a, at: 1_000)))
        #expect(registry.registerConsumer(data, client: client("B", b, at: 100_000)))
        registry.registerProducer(group: "PG", client: client("A", a, at: 1_000))
        #expect(!registry.registerConsumer(data, client: client("B", b, at: 110_000)))

        var (groups, closed) = registry.removeExpired(now: 115_000, maxIdleMillis: 120_000)
        #expect(groups.isEmpty && closed.isEmpty)
        (groups, closed) = registry.removeExpired(now: 121_500, maxIdleMillis: 120_000)
        #expect(groups == ["G"])
        #expect(closed.map(\.id) == [a.id])
        #expect(registry.consumerIds(group: "G") == ["B"])
        #expect(registry.producerConnections(group: "PG").isEmpty)
        (groups, _) = registry.removeExpired(now: 300_000, maxIdleMillis: 120_000)
        #expect(groups == ["G"])
        #expect(registry.consumerIds(group: "G") == nil)
        a.close()
        b.close()
        await f.stop()
    }

    @Test func subscribingANewTopicCountsAsAChange() async throws {
        let f = try await BrokerFixture.start()
        let a = try await f.connect()
        let registry = ClientRegistry()
        let client = ClientRegistry.Client(clientId: "A", channel: a, language: .java, version: 408, lastUpdate: 0)
        var data = ConsumerData(groupName: "G", subscriptionDataSet: [SubscriptionData(topic: "T")])
        #expect(registry.registerConsumer(data, client: client))
        #expect(!registry.registerConsumer(data, client: client))
        data.subscriptionDataSet.append(SubscriptionData(topic: "U", subString: "A"))
        #expect(registry.registerConsumer(data, client: client))
        #expect(registry.subscription(group: "G", topic: "U")?.subString == "A")
        #expect(!registry.registerConsumer(data, client: client))
        a.close()
        await f.stop()
    }

    /// Clients are keyed by client id: a client back on a new channel replaces its old one, and the old
    /// channel closing afterwards removes nothing.
    @Test func aReconnectingClientMovesToItsNewChannel() async throws {
        let f = try await BrokerFixture.start()
        let old = try await f.connect(), new = try await f.connect()
        let registry = ClientRegistry()
        func client(_ c: RemotingConnection) -> ClientRegistry.Client {
            ClientRegistry.Client(clientId: "A", channel: c, language: .cpp, version: 64, lastUpdate: 0)
        }
        let data = ConsumerData(groupName: "G", subscriptionDataSet: [SubscriptionData(topic: "T")])
        #expect(registry.registerConsumer(data, client: client(old)))
        registry.registerProducer(group: "PG", client: client(old))
        #expect(registry.registerConsumer(data, client: client(new)), "a move is a membership change")
        registry.registerProducer(group: "PG", client: client(new))
        #expect(registry.consumerChannels(group: "G").map(\.id) == [new.id])

        #expect(registry.channelClosed(old).isEmpty)
        #expect(registry.consumerIds(group: "G") == ["A"])
        #expect(registry.channel(clientId: "A")?.id == new.id)
        #expect(registry.producerConnections(group: "PG").map(\.id) == [new.id])
        #expect(!registry.unregisterConsumer(group: "G", channel: old))
        #expect(registry.unregisterConsumer(group: "G", channel: new))
        #expect(registry.consumerIds(group: "G") == nil)
        old.close()
        new.close()
        await f.stop()
    }

    /// The expiry scan is a timer of the broker clock: a client silent for more than two minutes is dropped and its
    /// connection closed; one that heartbeat within the window stays.
    @Test func silentClientsExpireOnTheBrokerClock() async throws {
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let f = try await BrokerFixture.start { $0.clock = clock }
        let scan = try #require(f.broker.timer(named: "client-expiry"))
        #expect(await eventually { scan.stepsCompleted.load(ordering: .acquiring) > 0 }, "the first due time is set")
        let silent = try await f.connect(), alive = try await f.connect()
        #expect(try await f.heartbeat(clientId: "silent", on: silent).code == ResponseCode.success)
        try await f.advance(clock, millis: 70_000, runningTimer: "client-expiry")
        #expect(try await f.heartbeat(clientId: "alive", on: alive).code == ResponseCode.success)
        #expect(try JSONBody.decode(ConsumerListBody.self, from: try await consumerIds(f, "CG").body).consumerIdList
            == ["alive", "silent"], "70 s of silence is within the window")
        try await f.advance(clock, millis: 60_000, runningTimer: "client-expiry")
        #expect(await eventually { !silent.isActive }, "the expired client's connection is closed")
        let list = try JSONBody.decode(ConsumerListBody.self, from: try await consumerIds(f, "CG").body)
        #expect(list.consumerIdList == ["alive"])
        alive.close()
        await f.stop()
    }
}
