import Foundation
import NIOCore
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// INVOKE_BROKER_TO_RESET_OFFSET (222) and its bodies.
@Suite struct ResetOffsetTests {
    /// An offline group is reset by time: the first message stored at or after the time; `-1` is the max
    /// offset, which without `isForce` does not move a group forward.
    @Test func resetsAnOfflineGroupByTime() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("T", queues: 1)
        let first = try f.put("T").storeTimestamp
        // Store times are in ms: wait (bounded) for the clock to pass the first message's.
        let deadline = Date().addingTimeInterval(5)
        while Int64(Date().timeIntervalSince1970 * 1000) <= first + 1, Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let second = try f.put("T").storeTimestamp
        try f.put("T")
        #expect(second > first)
        #expect(try await f.call(RequestCode.updateConsumerOffset,
                                 ["consumerGroup": "G", "topic": "T", "queueId": "0", "commitOffset": "3"]).code == ResponseCode.success)
        var fields: RemotingExtFields = ["topic": "T", "group": "G", "isForce": "true"]
        fields.set("timestamp", second)
        var r = try await f.call(ResetOffsetRequestCode.invokeBrokerToResetOffset, fields)
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        let mq = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 0)
        #expect(try ResetOffsetBody.decode(from: r.body) == ResetOffsetBody(offsetTable: [(mq, 1)]))
        #expect(f.broker.context.offsets.committed(group: "G", queue: QueueKey(topic: "T", queueId: 0)) == 1)

        fields.set("timestamp", -1)
        fields["isForce"] = "false"
        r = try await f.call(ResetOffsetRequestCode.invokeBrokerToResetOffset, fields)
        #expect(try ResetOffsetBody.decode(from: r.body).offsetTable.map(\.offset) == [1])

        fields["group"] = "NEVER"
        #expect(try await f.call(ResetOffsetRequestCode.invokeBrokerToResetOffset, fields).code == ResponseCode.systemError)
        fields["topic"] = "NOPE"
        #expect(try await f.call(ResetOffsetRequestCode.invokeBrokerToResetOffset, fields).code == ResponseCode.systemError)
        await f.stop()
    }

    /// Java's `ResetOffsetBody` (fastjson, `MessageQueue` keys) and `ResetOffsetBodyForC` (list of `MessageQueueForC`,
    /// getters getBrokerName / getOffset / getQueueId / getTopic), as the C++ client's `ResetOffsetBody::Decode` reads.
    @Test func bodyGoldens() throws {
        let body = ResetOffsetBody(offsetTable: [(MessageQueue(topic: "T", brokerName: "b", queueId: 2), 7)])
        let java = #"{"offsetTable":{{"brokerName":"b","queueId":2,"topic":"T"}:7}}"#
        let c = #"{"offsetTable":[{"brokerName":"b","offset":7,"queueId":2,"topic":"T"}]}"#
        #expect(FastJSONWriter.write(body.fastJSON) == java)
        #expect(FastJSONWriter.write(body.fastJSONForC) == c)
        #expect(try ResetOffsetBody(fastJSON: FastJSONReader.read(java)) == body)
        #expect(try ResetOffsetBody(fastJSON: FastJSONReader.read(c)) == body)
    }
}
