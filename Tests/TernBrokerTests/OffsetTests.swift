import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

@Suite struct OffsetTests {
    private func query(_ f: BrokerFixture, group: String = "G", topic: String = "T", queueId: Int = 0) async throws -> RemotingCommand {
        try await f.call(RequestCode.queryConsumerOffset, ["consumerGroup": group, "topic": topic, "queueId": String(queueId)])
    }

    private func update(_ f: BrokerFixture, group: String = "G", topic: String = "T", queueId: Int = 0, offset: Int64) async throws -> RemotingCommand {
        try await f.call(RequestCode.updateConsumerOffset,
                         ["consumerGroup": group, "topic": topic, "queueId": String(queueId), "commitOffset": String(offset)])
    }

    @Test func queryRules() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T")
        // Never committed, queue starts at 0 (here: unknown queue): offset 0 so a new group sees everything.
        var r = try await query(f)
        #expect(r.code == ResponseCode.success)
        #expect(r.extFields.int64("offset") == 0)
        try f.put("T")
        #expect(try await query(f).extFields.int64("offset") == 0)

        r = try await update(f, offset: 1)
        #expect(r.code == ResponseCode.success)
        r = try await query(f)
        #expect(r.code == ResponseCode.success)
        #expect(r.extFields.int64("offset") == 1)
        // Other groups and queues are separate.
        #expect(try await query(f, group: "H").extFields.int64("offset") == 0)
        #expect(try await query(f, queueId: 1).extFields.int64("offset") == 0)
        #expect(try await f.call(RequestCode.queryConsumerOffset, ["consumerGroup": "G"]).code == ResponseCode.systemError)
        await f.stop()
    }

    @Test func queryIsNotFoundOnceTheQueueNoLongerStartsAtZero() async throws {
        let (f, min) = try await BrokerFixture.startWithTrimmedQueue()
        #expect(min > 0)
        let r = try await query(f)
        #expect(r.code == ResponseCode.queryNotFound)
        // A committed offset is still answered.
        _ = try await update(f, offset: 25)
        #expect(try await query(f).extFields.int64("offset") == 25)
        await f.stop()
    }

    @Test func onewayUpdateIsApplied() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        var cmd = RemotingCommand(code: RequestCode.updateConsumerOffset, language: .cpp, version: 64,
                                  extFields: ["consumerGroup": "G", "topic": "T", "queueId": "3", "commitOffset": "42"])
        cmd.isOneway = true
        c.sendOneway(cmd)
        #expect(await eventually {
            (try? f.broker.store.consumerOffset(group: "G", queue: QueueKey(topic: "T", queueId: 3))) == 42
        })
        c.close()
        await f.stop()
    }

    @Test func offsetsSurviveARestart() async throws {
        let f = try await BrokerFixture.start()
        let dir = f.storeDir
        try f.createTopic("T")
        _ = try await update(f, queueId: 2, offset: 17)
        _ = try await f.pull("T", queueId: 1, offset: 0, group: "G", sysFlag: 1 | 4, commitOffset: 5)
        await f.stop(keepStore: true)

        let g = try await BrokerFixture.start(storeDir: dir)
        #expect(try await query(g, queueId: 2).extFields.int64("offset") == 17)
        #expect(try await query(g, queueId: 1).extFields.int64("offset") == 5)
        await g.stop()
    }

    @Test func queueOffsetsAndTimes() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T")
        var stored: [AppendResult] = []
        for i in 0..<3 {
            stored.append(try f.put("T", queueId: 1, body: "m\(i)"))
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        func ask(_ code: Int, _ extra: RemotingExtFields = [:], queueId: Int = 1) async throws -> RemotingCommand {
            var fields: RemotingExtFields = ["topic": "T", "queueId": String(queueId)]
            for (k, v) in extra { fields[k] = v }
            return try await f.call(code, fields)
        }
        #expect(try await ask(RequestCode.getMaxOffset).extFields.int64("offset") == 3)
        #expect(try await ask(RequestCode.getMinOffset).extFields.int64("offset") == 0)
        #expect(try await ask(RequestCode.getMaxOffset, queueId: 0).extFields.int64("offset") == 0)
        #expect(try await ask(RequestCode.getMinOffset, queueId: 7).extFields.int64("offset") == 0)
        let earliest = try await ask(RequestCode.getEarliestMsgStoretime)
        #expect(earliest.code == ResponseCode.success)
        #expect(earliest.extFields.int64("timestamp") == stored[0].storeTimestamp)
        let t1 = String(stored[1].storeTimestamp)
        #expect(try await ask(RequestCode.searchOffsetByTimestamp, ["timestamp": t1]).extFields.int64("offset") == 1)
        #expect(try await ask(RequestCode.searchOffsetByTimestamp, ["timestamp": "0"]).extFields.int64("offset") == 0)
        let future = String(stored[2].storeTimestamp + 60_000)
        #expect(try await ask(RequestCode.searchOffsetByTimestamp, ["timestamp": future]).extFields.int64("offset") == 3)
        await f.stop()
    }

    @Test func consumeStatsAndAllOffsets() async throws {
        let f = try await BrokerFixture.start { $0.brokerName = "broker-x" }
        try f.createTopic("T", queues: 2)
        try f.put("T", queueId: 0)
        try f.put("T", queueId: 0)
        try f.put("T", queueId: 1)
        _ = try await update(f, queueId: 0, offset: 1)
        var r = try await f.call(ConsumerRequestCode.getConsumeStats, ["consumerGroup": "G"])
        #expect(r.code == ResponseCode.success)
        let stats = try ConsumeStatsBody.decode(from: r.body)
        #expect(stats.offsetTable.map(\.queue.queueId) == [0, 1])
        #expect(stats.offsetTable.map(\.brokerOffset) == [2, 1])
        #expect(stats.offsetTable.map(\.consumerOffset) == [1, 0])
        #expect(stats.offsetTable.allSatisfy { $0.queue.brokerName == "broker-x" && $0.queue.topic == "T" })
        #expect(stats.offsetTable[0].lastTimestamp > 0)
        #expect(stats.diffTotal == 2)
        // Asking for one topic the group never touched lists its queues with offset 0.
        try f.createTopic("U", queues: 1)
        r = try await f.call(ConsumerRequestCode.getConsumeStats, ["consumerGroup": "G", "topic": "U"])
        #expect(try ConsumeStatsBody.decode(from: r.body).offsetTable.map(\.consumerOffset) == [0])

        r = try await f.call(RequestCode.getAllConsumerOffset)
        let all = try JSONBody.decode(ConsumerOffsetSerializeWrapper.self, from: r.body)
        #expect(all.offsetTable == ["T@G": ["0": 1]])
        await f.stop()
    }
}
