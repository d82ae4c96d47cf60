import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import Testing

/// A producer's repeated sends reuse the last topic's config and name checks (SendService) and the last valid
/// producer group (SendProcessor); every change of the topic table, and every other name, must reach the very
/// next send.
@Suite struct SendNameCacheTests {
    static func rejection(_ outcome: SendOutcome) -> RequestRejection? {
        if case let .rejected(r) = outcome { return r }
        return nil
    }

    @Test func aChangedTopicReachesTheNextSend() async throws {
        let f = try await BrokerFixture.start()
        let context = f.broker.context
        let sends = SendService(context: context)
        let send = { (topic: String, queueId: Int32) in
            sends.send(try SendPullServiceTests.request(topic, queueId: queueId, body: "m"))
        }
        try context.topics.update(TopicConfig(topicName: "C", readQueueNums: 4, writeQueueNums: 4))
        #expect(Self.rejection(try send("C", 3)) == nil)
        #expect(Self.rejection(try send("C", 3)) == nil)  // served from the cache

        try context.topics.update(TopicConfig(topicName: "C", readQueueNums: 2, writeQueueNums: 2))
        #expect(Self.rejection(try send("C", 3))?.code == ResponseCode.systemError)  // queue 3 no longer exists

        try context.topics.update(TopicConfig(topicName: "C", readQueueNums: 4, writeQueueNums: 4, perm: Perm.read))
        #expect(Self.rejection(try send("C", 0))?.code == ResponseCode.noPermission)

        try context.topics.update(TopicConfig(topicName: "C", readQueueNums: 4, writeQueueNums: 4))
        #expect(Self.rejection(try send("C", 3)) == nil)
        // Another topic after a cached one still gets the name checks.
        #expect(Self.rejection(try send("SELF_TEST_TOPIC", 0))?.code == ResponseCode.noPermission)
        #expect(Self.rejection(try send("C", 0)) == nil)
        await f.stop()
    }

    /// Puts are counted on the interned topic's counter (no stats lookup per send): every send lands on its
    /// own topic's figures, across table changes and other topics, and a stats period closes over them.
    @Test func putsCountedOnTheInternedTopic() async throws {
        let f = try await BrokerFixture.start()
        let context = f.broker.context
        let sends = SendService(context: context)
        let send = { (topic: String) throws in
            let outcome = sends.send(try SendPullServiceTests.request(topic, queueId: 0, body: "m"))
            #expect(Self.rejection(outcome) == nil)
        }
        try context.topics.update(TopicConfig(topicName: "C", readQueueNums: 4, writeQueueNums: 4))
        try send("C")
        try send("C")  // interned
        try context.topics.update(TopicConfig(topicName: "C", readQueueNums: 2, writeQueueNums: 2))
        try send("C")  // re-read, same counter
        try send("D")
        try send("C")
        #expect(context.flow.stats.putFigures(topic: "C").total == 4)
        #expect(context.flow.stats.putFigures(topic: "D").total == 1)
        context.flow.rollStats()
        try send("C")
        let c = context.flow.stats.putFigures(topic: "C")
        #expect(c.total == 5 && c.lastPeriod == 4)
        #expect(context.flow.stats.totals().puts.total == 6)
        await f.stop()
    }

    @Test func anInvalidGroupAfterAValidOneIsRefused() async throws {
        let f = try await BrokerFixture.start()
        var send = SendFrames.javaFields(topic: "T")
        for (group, valid) in [("good", true), ("good", true), ("bad group!", false), ("good", true)] {
            send["producerGroup"] = group
            let r = try await f.call(RequestCode.sendMessage, send, body: SendFrames.buffer("x"))
            if valid {
                #expect(r.code == ResponseCode.success, "\(group): \(r.remark ?? "")")
            } else {
                #expect(r.code == ResponseCode.systemError && r.remark?.hasPrefix("the specified group") == true)
            }
        }
        await f.stop()
    }
}
