@testable import TernBroker
import TernProtocol
import TernRemoting
import TernStorage
import Testing

/// The typed admin service called directly (no connection), and the adapter's decoding into typed requests.
@Suite struct AdminServiceTests {
    @Test func adminCodesDecodeToTypedRequests() {
        let created = AdminProcessor.adminRequest(RequestCode.updateAndCreateTopic, ["topic": "A", "readQueueNums": "2", "perm": "4"])
        #expect(created == .success(.createTopic(TopicConfig(topicName: "A", readQueueNums: 2, writeQueueNums: 16, perm: 4))))
        #expect(AdminProcessor.adminRequest(AdminRequestCode.deleteTopicInBroker, ["topic": "A"]) == .success(.deleteTopic("A")))
        #expect(AdminProcessor.adminRequest(AdminRequestCode.getTopicStatsInfo, [:])
            == .failure(RequestRejection(ResponseCode.systemError, "GET_TOPIC_STATS_INFO needs the field topic")))
        #expect(AdminProcessor.adminRequest(RequestCode.getAllTopicConfig, [:]) == .success(.allTopics))
    }

    @Test func topicsAreCreatedCountedAndDeletedThroughTheService() async throws {
        let f = try await BrokerFixture.start()
        let admin = AdminService(context: f.broker.context)
        let sends = SendService(context: f.broker.context)
        guard case .success(.done) = admin.answer(.createTopic(TopicConfig(topicName: "A", readQueueNums: 2, writeQueueNums: 2))) else {
            Issue.record("topic A not created")
            return
        }
        for _ in 0..<2 {
            guard case .stored = sends.send(try SendPullServiceTests.request("A", queueId: 1, body: "x")) else {
                Issue.record("not stored")
                return
            }
        }
        #expect(f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset))
        guard case .success(.topicStats(let entries)) = admin.answer(.topicStats("A")) else {
            Issue.record("no stats for A")
            return
        }
        #expect(entries.map(\.maxOffset) == [0, 2])
        guard case .success(.runtimeInfo(let table)) = admin.answer(.runtimeInfo) else { Issue.record("no runtime info"); return }
        #expect(table["msgPutTotalTodayNow"] == "2")

        guard case .failure(let reserved) = admin.answer(.createTopic(TopicConfig(topicName: "SCHEDULE_TOPIC_XXXX"))) else {
            Issue.record("a system topic was created")
            return
        }
        #expect(reserved == RequestRejection(ResponseCode.systemError, "The topic[SCHEDULE_TOPIC_XXXX] is conflict with system topic."))
        guard case .success(.done) = admin.answer(.deleteTopic("A")) else { Issue.record("A not deleted"); return }
        guard case .failure(let gone) = admin.answer(.topicStats("A")) else { Issue.record("stats of a deleted topic"); return }
        #expect(gone.code == ResponseCode.topicNotExist)
        await f.stop()
    }
}
