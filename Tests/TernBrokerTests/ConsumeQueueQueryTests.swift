import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// QUERY_CONSUME_QUEUE (321, `mqadmin queryCq`): Java's `QueryConsumeQueueResponseBody` field names
/// (common/protocol/body/QueryConsumeQueueResponseBody.java, ConsumeQueueData.java) and its remarks.
@Suite struct ConsumeQueueQueryTests {
    func query(_ f: BrokerFixture, _ fields: RemotingExtFields) async throws -> RemotingCommand {
        try await f.call(ConsumeQueueQueryRequestCode.queryConsumeQueue, fields)
    }

    @Test func entriesBoundsAndRemarks() async throws {
        let f = try await BrokerFixture.start()
        for i in 0 ..< 3 { try await AdminProcessorTests.send(f, "CQ", "m\(i)") }
        AdminProcessorTests.dispatched(f)

        var r = try await query(f, ["topic": "CQ", "queueId": "0", "index": "1", "count": "5", "consumerGroup": "G"])
        #expect(r.code == ResponseCode.success)
        let body = try #require(r.body)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
        #expect(Set(json.keys) == ["filterData", "queueData", "maxQueueIndex", "minQueueIndex"])
        #expect((json["maxQueueIndex"] as? NSNumber)?.int64Value == 3 && (json["minQueueIndex"] as? NSNumber)?.int64Value == 0)
        #expect(json["filterData"] as? String == "G@CQ is not online!")
        let rows = try #require(json["queueData"] as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(Set(rows[0].keys) == ["physicOffset", "physicSize", "tagsCode", "eval"])
        let second = try #require(f.broker.store.entries(QueueKey(topic: "CQ", queueId: 0), from: 1, maxCount: 1).first)
        #expect((rows[0]["physicOffset"] as? NSNumber)?.int64Value == second.physicalOffset)
        #expect((rows[0]["physicSize"] as? NSNumber)?.int32Value == second.size)

        r = try await query(f, ["topic": "CQ", "queueId": "0", "index": "3", "count": "5"])
        #expect(r.code == ResponseCode.success && r.remark == "Index 3 of 0@CQ is not exist!" && r.body == nil)
        r = try await query(f, ["topic": "CQ", "queueId": "7", "index": "0", "count": "5"])
        #expect(r.code == ResponseCode.systemError && r.remark == "7@CQ is not exist!")
        await f.stop()
    }
}
