import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernTransport
import Testing

/// Topic creation is an in-memory change; topics.json is written off the event loops after a burst of changes and
/// once more at graceful shutdown.
@Suite struct TopicCreationTests {
    private static func heartbeat(groups: Int) -> ByteBuffer {
        let consumers = (0..<groups).map { i in
            #"{"consumeFromWhere":0,"consumeType":1,"groupName":"G\#(i)","messageModel":1,"subscriptionDataSet":[]}"#
        }
        return ByteBuffer(string: #"{"clientID":"many","consumerDataSet":[\#(consumers.joined(separator: ","))]}"#)
    }

    private static func fileTopics(_ storeDir: String) throws -> Set<String> {
        let data = try Data(contentsOf: URL(fileURLWithPath: storeDir + "/config/topics.json"))
        return Set(try JSONDecoder().decode(TopicConfigSerializeWrapper.self, from: data).topicConfigTable.keys)
    }

    @Test func heartbeatListingThousandsOfGroupsDoesNotHoldTheLoop() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T")
        let heartbeatConnection = try await f.connect()
        // With two event loops, some of these share the heartbeat's loop.
        var senders: [RemotingConnection] = []
        for _ in 0..<4 { senders.append(try await f.connect()) }
        async let answered = f.call(RequestCode.heartBeat, body: Self.heartbeat(groups: 3_000), on: heartbeatConnection,
                                    timeout: .seconds(30))
        // Every send finishes within its deadline while the heartbeat is being handled.
        for round in 0..<5 {
            for c in senders {
                let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: "T"), body: SendFrames.buffer("m\(round)"),
                                         on: c, timeout: .seconds(2))
                #expect(r.code == ResponseCode.success)
            }
        }
        #expect(try await answered.code == ResponseCode.success)
        let topics = f.broker.context.topics
        #expect((0..<3_000).allSatisfy { topics.config("%RETRY%G\($0)") != nil })
        // The file follows without a shutdown.
        #expect(await eventually(timeoutMillis: 10_000) { ((try? Self.fileTopics(f.storeDir)) ?? []).contains("%RETRY%G2999") })
        heartbeatConnection.close()
        senders.forEach { $0.close() }
        await f.stop()
    }

    @Test func everyCreationPathRefusesAnInvalidName() async throws {
        let f = try await BrokerFixture.start()
        let topics = f.broker.context.topics
        for name in ["a/b", "../x", "a\0b", "a\nb", "", String(repeating: "t", count: 128)] {
            #expect(throws: TopicConfigManager.InvalidTopicName.self) { try topics.createIfAbsent(name, queueNums: 1) }
            #expect(throws: TopicConfigManager.InvalidTopicName.self) {
                try topics.configForSend(name, defaultTopic: nil, requestedQueueNums: 4)
            }
            #expect(throws: TopicConfigManager.InvalidTopicName.self) {
                try topics.update(TopicConfig(topicName: name, readQueueNums: 1, writeQueueNums: 1))
            }
            #expect(topics.config(name) == nil)
        }
        await f.stop()
    }

    @Test func topicsJsonHoldsEveryTopicAfterGracefulShutdown() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        var created: Set<String> = []
        for i in 0..<300 {
            let topic = "auto-\(i)"
            let r = try await f.call(RequestCode.sendMessage, SendFrames.javaFields(topic: topic), body: SendFrames.buffer("x"), on: c)
            #expect(r.code == ResponseCode.success)
            created.insert(topic)
        }
        #expect(try await f.call(RequestCode.heartBeat, body: Self.heartbeat(groups: 200), on: c).code == ResponseCode.success)
        created.formUnion((0..<200).map { "%RETRY%G\($0)" })
        c.close()
        await f.stop(keepStore: true)
        #expect(try Self.fileTopics(f.storeDir).isSuperset(of: created))

        let again = try await BrokerFixture.start(storeDir: f.storeDir)
        #expect(created.allSatisfy { again.broker.context.topics.config($0) != nil })
        await again.stop()
    }
}
