import Foundation
import Logging
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// The remoting adapters' decoding into typed requests, and the typed offset service on a real store.
@Suite struct TypedRequestTests {
    @Test func offsetCodesDecodeToTypedRequests() {
        let q = QueueKey(topic: "T", queueId: 3)
        let base: RemotingExtFields = ["topic": "T", "queueId": "3", "consumerGroup": "G", "commitOffset": "7",
                                       "timestamp": "1000"]
        func decode(_ code: Int, _ f: RemotingExtFields = base) -> Result<OffsetRequest, RequestRejection> {
            ConsumerProcessor.offsetRequest(code, f)
        }
        #expect(decode(RequestCode.queryConsumerOffset) == .success(.committed(group: "G", queue: q)))
        #expect(decode(RequestCode.updateConsumerOffset) == .success(.commit(group: "G", queue: q, offset: 7)))
        #expect(decode(RequestCode.searchOffsetByTimestamp) == .success(.offsetAt(queue: q, timestampMillis: 1000)))
        #expect(decode(RequestCode.getMaxOffset) == .success(.maxOffset(q)))
        #expect(decode(RequestCode.getMinOffset) == .success(.minOffset(q)))
        #expect(decode(RequestCode.getEarliestMsgStoretime) == .success(.earliestStoreTime(q)))
        #expect(decode(RequestCode.getMaxOffset, ["topic": "T"])
            == .failure(RequestRejection(ResponseCode.systemError, "the custom field <topic> or <queueId> is null")))
        #expect(decode(RequestCode.updateConsumerOffset, ["topic": "T", "queueId": "3", "consumerGroup": "G"])
            == .failure(RequestRejection(ResponseCode.systemError, "the custom field <consumerGroup> or <commitOffset> is null")))
    }

    @Test func offsetServiceAnswersTypedRequests() throws {
        let dir = NSTemporaryDirectory() + "tern-typed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try startSmallStore(dir)
        defer { store.close() }
        let offsets = OffsetService(store: store, logger: Logger(label: "test"))
        let q = QueueKey(topic: "T", queueId: 0)
        #expect(try offsets.answer(.committed(group: "G", queue: q)) == .offset(0), "a queue starting at 0: offset 0")
        #expect(try offsets.answer(.maxOffset(q)) == .offset(0))
        #expect(try offsets.answer(.commit(group: "G", queue: q, offset: 5)) == .committed)
        #expect(try offsets.answer(.committed(group: "G", queue: q)) == .offset(5), "a pending commit is visible at once")
        for i in 0..<3 {
            let draft = MessageDraft(topic: Array("T".utf8), queueId: 0, bornTimestamp: 1, bornHost: HostAddress("127.0.0.1:1")!,
                                     storeHost: HostAddress("127.0.0.1:2")!, body: Array("m\(i)".utf8), properties: [])
            _ = try store.append(draft)
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        #expect(try offsets.answer(.maxOffset(q)) == .offset(3))
        #expect(try offsets.answer(.minOffset(q)) == .offset(0))
    }

    @Test func endTransactionDecodes() {
        let fields: RemotingExtFields = ["commitOrRollback": "8", "commitLogOffset": "100", "tranStateTableOffset": "4",
                                         "producerGroup": "PG", "fromTransactionCheck": "true"]
        #expect(EndTransactionRequest.parse(fields) == .success(EndTransactionRequest(
            halfOffset: 100, queueOffset: 4, producerGroup: "PG", outcome: .commit, fromCheck: true)))
        var rollback = fields
        rollback["commitOrRollback"] = "12"
        #expect((try? EndTransactionRequest.parse(rollback).get())??.outcome == .rollback)
        var unknown = fields
        unknown["commitOrRollback"] = "0"
        #expect(EndTransactionRequest.parse(unknown) == .success(nil), "unknown: no answer, wait for the check-back")
        var bad = fields
        bad["commitOrRollback"] = "3"
        #expect(EndTransactionRequest.parse(bad) == .failure(RequestRejection(ResponseCode.systemError, "commitOrRollback 3 is not 0, 8 or 12")))
        #expect(EndTransactionRequest.parse(["commitOrRollback": "8"])
            == .failure(RequestRejection(ResponseCode.systemError, "commitLogOffset and tranStateTableOffset are required")))
    }
}
