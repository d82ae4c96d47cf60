import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import TernTestSupport
import Testing

/// VIEW_BROKER_STATS_DATA (315) and GET_BROKER_CONSUME_STATS (317): golden bodies from apache/rocketmq 4.9.7's
/// `BrokerStatsData` / `BrokerStatsItem` / `ConsumeStatsList` (getters in alphabetical order, as fastjson
/// writes them), and the answers of a real broker to the requests `mqadmin statsAll` / `brokerConsumeStats` send.
@Suite struct BrokerStatsTests {
    /// `BrokerStatsData` getters getStatsDay / getStatsHour / getStatsMinute; `BrokerStatsItem` getAvgpt / getSum / getTps.
    @Test func brokerStatsDataGolden() throws {
        let body = BrokerStatsDataBody(statsMinute: .init(sum: 3, tps: 0.05), statsHour: .init(sum: 7, tps: 0.05),
                                       statsDay: .init(sum: 7, tps: 0.05, avgpt: 1))
        let golden = #"{"statsDay":{"avgpt":1.0,"sum":7,"tps":0.05},"statsHour":{"avgpt":0.0,"sum":7,"tps":0.05},"#
            + #""statsMinute":{"avgpt":0.0,"sum":3,"tps":0.05}}"#
        #expect(FastJSONWriter.write(body.fastJSON) == golden)
        #expect(try BrokerStatsDataBody.decode(from: ByteBuffer(string: golden)) == body)
        #expect(throws: FastJSONError.self) { try BrokerStatsDataBody.decode(from: ByteBuffer(string: #"{"statsDay":{"sum":1}}"#)) }
    }

    /// `ConsumeStatsList` getters getBrokerAddr / getConsumeStatsList / getTotalDiff; the list holds one
    /// `HashMap<String, List<ConsumeStats>>` per group.
    @Test func consumeStatsListGolden() throws {
        let mq = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 0)
        let stats = ConsumeStatsBody(offsetTable: [.init(queue: mq, brokerOffset: 5, consumerOffset: 2, lastTimestamp: 9)])
        let body = ConsumeStatsListBody(brokerAddr: "10.0.0.1:10911",
                                        groups: [.init(group: "G", stats: [stats]), .init(group: "H", stats: [])], totalDiff: 3)
        let golden = #"{"brokerAddr":"10.0.0.1:10911","consumeStatsList":[{"G":[{"consumeTps":0.0,"offsetTable":"#
            + #"{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":5,"consumerOffset":2,"lastTimestamp":9}}}]},"#
            + #"{"H":[]}],"totalDiff":3}"#
        #expect(FastJSONWriter.write(body.fastJSON) == golden)
        #expect(try ConsumeStatsListBody.decode(from: ByteBuffer(string: golden)) == body)
        #expect(throws: FastJSONError.self) { try ConsumeStatsListBody.decode(from: ByteBuffer(string: #"{"consumeStatsList":[[]]}"#)) }
    }

    /// Puts and gets of a real broker, through the codes: the minute window is the last stats period, hour and
    /// day the totals since start; an unknown item answers SYSTEM_ERROR as Java does.
    @Test func viewBrokerStatsDataFromRealCounters() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        try f.createTopic("S", queues: 1)
        for _ in 0..<3 { #expect(try await f.send("S", on: c).code == ResponseCode.success) }
        #expect(f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset))
        #expect(decodeRecords(try await f.pull("S", offset: 0, group: "G").body).count == 3)
        f.broker.context.flow.rollStats()
        #expect(try await f.send("S", on: c).code == ResponseCode.success)

        let put = try await f.call(BrokerStatsRequestCode.viewBrokerStatsData, ["statsName": "TOPIC_PUT_NUMS", "statsKey": "S"], on: c)
        #expect(put.code == ResponseCode.success)
        let p = try BrokerStatsDataBody.decode(from: put.body)
        #expect(p.statsMinute.sum == 3 && p.statsDay.sum == 4 && p.statsHour.sum == 4)
        #expect(abs(p.statsMinute.tps - 0.05) < 1e-9)
        let get = try await f.call(BrokerStatsRequestCode.viewBrokerStatsData, ["statsName": "GROUP_GET_NUMS", "statsKey": "S@G"], on: c)
        #expect(try BrokerStatsDataBody.decode(from: get.body).statsDay.sum == 3)
        let broker = try await f.call(BrokerStatsRequestCode.viewBrokerStatsData,
                                      ["statsName": "BROKER_PUT_NUMS", "statsKey": f.broker.context.config.brokerClusterName], on: c)
        #expect(try BrokerStatsDataBody.decode(from: broker.body).statsDay.sum == 4)
        for (name, key) in [("TOPIC_PUT_NUMS", "Nope"), ("GROUP_GET_NUMS", "S@Other"), ("TOPIC_PUT_SIZE", "S")] {
            let r = try await f.call(BrokerStatsRequestCode.viewBrokerStatsData, ["statsName": name, "statsKey": key], on: c)
            #expect(r.code == ResponseCode.systemError && r.remark == "The stats <\(name)> <\(key)> not exist")
        }
        await f.stop()
    }

    /// Every subscription group with its committed offsets per topic; `totalDiff` sums the backlog; `isOrder`
    /// keeps order topics only.
    @Test func brokerConsumeStatsListsEveryGroup() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("A", queues: 2)
        for i in 0..<5 { _ = try f.put("A", body: "m\(i)") }
        #expect(f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset))
        let ctx = f.broker.context
        ctx.groups.update(SubscriptionGroupConfig(groupName: "G1"))
        ctx.groups.update(SubscriptionGroupConfig(groupName: "G2"))
        ctx.offsets.commit(group: "G1", queue: QueueKey(topic: "A", queueId: 0), offset: 1)
        let max0 = try #require(try f.broker.store.queueRange(QueueKey(topic: "A", queueId: 0))?.max)
        let max1 = try f.broker.store.queueRange(QueueKey(topic: "A", queueId: 1))?.max ?? 0

        let r = try await f.call(BrokerStatsRequestCode.getBrokerConsumeStats, ["isOrder": "false"])
        #expect(r.code == ResponseCode.success)
        let body = try ConsumeStatsListBody.decode(from: r.body)
        #expect(body.brokerAddr == ctx.config.brokerAddress)
        let g1 = try #require(body.groups.first { $0.group == "G1" })
        #expect(g1.stats.count == 1 && g1.stats[0].offsetTable.map(\.consumerOffset) == [1, 0])
        #expect(body.groups.first { $0.group == "G2" }?.stats.isEmpty == true)
        #expect(body.totalDiff == max0 - 1 + max1)

        let ordered = try ConsumeStatsListBody.decode(from: try await f.call(BrokerStatsRequestCode.getBrokerConsumeStats, ["isOrder": "true"]).body)
        #expect(ordered.groups.allSatisfy { $0.stats.isEmpty } && ordered.totalDiff == 0)
        await f.stop()
    }
}
