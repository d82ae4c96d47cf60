import Testing
import TernConsole
import TernProtocol
@testable import TernClient

/// Pages rendered from fixed admin answers: what a person reads is there, hostile stored strings are escaped.
@Suite struct PageRenderingTests {
    static let evil = EscapingTests.hostile
    static let evilEscaped = HTML.text(EscapingTests.hostile)

    static func message(topic: String = "Orders", body: String = "hello <b>body</b>", key: String = "order-1") -> ReceivedMessage {
        ReceivedMessage(topic: topic, queueId: 2, queueOffset: 7, physicalOffset: 1234, flag: 0, sysFlag: 0, body: Array(body.utf8),
                        properties: ["KEYS": key, "TAGS": "TagA", "UNIQ_KEY": "7F000001ABCD", "x-evil": evil],
                        bornTimestamp: 1_700_000_000_000, storeTimestamp: 1_700_000_000_005, bornHost: "127.0.0.1:5000",
                        storeHost: "127.0.0.1:10911", reconsumeTimes: 0, msgId: "7F00000100002A9F00000000000004D2")
    }

    /// No hostile string reached the page unescaped.
    static func expectSafe(_ page: String) {
        #expect(!page.contains(evil))
        #expect(!page.contains("<script>alert"))
        #expect(!page.contains("onmouseover=\"alert"))
    }

    @Test func clusterShowsBrokersRolesVersionsDiskAndTps() {
        let info = ClusterInfo(brokerAddrTable: ["broker-a": BrokerData(cluster: "C1", brokerName: "broker-a",
                                                                         brokerAddrs: ["0": "10.0.0.1:10911", "1": "10.0.0.2:10911"])],
                               clusterAddrTable: ["C1": ["broker-a"]])
        let page = ClusterPages.cluster(info, runtime: ["10.0.0.1:10911": [
            "brokerVersionDesc": "V4_9_7", "putTps": "12.5 12.5 12.5", "commitLogDiskRatio": "0.4321",
            "msgPutTotalTodayNow": "99",
        ]])
        #expect(page.contains("<td>MASTER</td>") && page.contains("<td>SLAVE</td>"))
        #expect(page.contains("V4_9_7"))
        #expect(page.contains("12.50"))
        #expect(page.contains("43.2 %"))
        #expect(page.contains("unreachable"))  // the slave's runtime info is missing
        #expect(page.hasPrefix("<!DOCTYPE html>"))
    }

    @Test func replicationShowsSlaveLagBehindMaster() {
        let info = ClusterInfo(brokerAddrTable: ["b": BrokerData(cluster: "C", brokerName: "b", brokerAddrs: ["0": "m:1", "1": "s:1"])],
                               clusterAddrTable: ["C": ["b"]])
        let page = ClusterPages.replication(info, runtime: ["m:1": ["commitLogMaxOffset": "5000"], "s:1": ["commitLogMaxOffset": "4200"]])
        #expect(page.contains("<span class=\"num\">800</span>"))
        #expect(page.contains("1 broker group(s), 1 slave(s)."))
    }

    @Test func topicListShowsMessageCountsAndEscapesNames() {
        let q = [QueueStats(brokerName: "broker-a", queueId: 0, minOffset: 2, maxOffset: 10, lastUpdateTimestamp: 0),
                 QueueStats(brokerName: "broker-a", queueId: 1, minOffset: 0, maxOffset: 5, lastUpdateTimestamp: 0)]
        let page = TopicPages.list([TopicSummary(name: Self.evil, queues: q), TopicSummary(name: "Broken", queues: [], error: "no route")],
                                   filter: Self.evil, showInternal: false, page: 0, total: 2)
        #expect(page.contains("<span class=\"num topic-count\">13</span>"))
        #expect(page.contains(Self.evilEscaped))
        #expect(page.contains("no route"))
        #expect(page.contains("2 topic(s), page 1 of 1"))
        Self.expectSafe(page)
    }

    @Test func topicListPagesLinkOnward() {
        let page = TopicPages.list([], filter: "", showInternal: false, page: 1, total: 250)
        #expect(page.contains("page 2 of 3"))
        #expect(page.contains(">previous</a>") && page.contains(">next</a>"))
    }

    @Test func topicPageShowsQueuesAndForms() {
        let q = [QueueStats(brokerName: "broker-a", queueId: 0, minOffset: 0, maxOffset: 42, lastUpdateTimestamp: 1_700_000_000_000)]
        let route = TopicRouteData(queueDatas: [QueueData(brokerName: "broker-a", readQueueNums: 8, writeQueueNums: 8, perm: 6)],
                                   brokerDatas: [])
        let page = TopicPages.topic("Orders", queues: q, puts: [TopicPutStats(brokerAddress: "a:1", total: 42, lastPeriod: 3, tps: 0.5)],
                                    route: route, notice: Self.evil)
        #expect(page.contains("<b id=\"topic-messages\" class=\"num\">42</b>"))
        #expect(page.contains("value=\"8\""))
        #expect(page.contains("action=\"/topic/delete\""))
        Self.expectSafe(page)
    }

    @Test func groupPageShowsLagPerQueueAndMembers() {
        let progress = ConsumerProgress(queues: [
            ConsumerQueueProgress(topic: "Orders", brokerName: "broker-a", queueId: 0, brokerOffset: 10, consumerOffset: 4, lastTimestamp: 0),
            ConsumerQueueProgress(topic: "Orders", brokerName: "broker-a", queueId: 1, brokerOffset: 3, consumerOffset: 3, lastTimestamp: 0),
        ], consumeTps: 1)
        let conn = ConsumerConnectionBody(connectionSet: [.init(clientId: Self.evil, clientAddr: "127.0.0.1:1", language: "CPP", version: 1)],
                                          subscriptionTable: ["Orders": SubscriptionData(topic: "Orders", subString: "TagA")],
                                          consumeType: .consumePassively, messageModel: .clustering, consumeFromWhere: .lastOffset)
        let page = GroupPages.group("G1", progress: progress, connection: conn, offlineReason: nil)
        #expect(page.contains("<b id=\"group-lag\" class=\"num\">6</b>"))
        #expect(page.contains("<span class=\"num queue-lag\">6</span>"))
        #expect(page.contains("<option value=\"Orders\">"))
        #expect(page.contains("TagA"))
        Self.expectSafe(page)
        let offline = GroupPages.group("G1", progress: progress, connection: nil, offlineReason: "not online <now>")
        #expect(offline.contains("not online &lt;now&gt;"))
    }

    @Test func groupRowSumsLagOverQueuesAndNamesTopicsOnce() {
        let progress = ConsumerProgress(queues: [
            ConsumerQueueProgress(topic: "T", brokerName: "a", queueId: 0, brokerOffset: 9, consumerOffset: 2, lastTimestamp: 0),
            ConsumerQueueProgress(topic: "T", brokerName: "b", queueId: 0, brokerOffset: 9, consumerOffset: 2, lastTimestamp: 0),
            ConsumerQueueProgress(topic: "%RETRY%G", brokerName: "a", queueId: 0, brokerOffset: 1, consumerOffset: 1, lastTimestamp: 0),
        ], consumeTps: 2.5)
        #expect(GroupSummary(name: "G", progress: progress) == GroupSummary(name: "G", topics: ["%RETRY%G", "T"], lag: 14, consumeTps: 2.5))
        let page = GroupPages.list([GroupSummary(name: "G", progress: progress)], filter: "", page: 0, total: 1)
        #expect(page.contains("<span class=\"num group-lag\">14</span>"))
    }

    @Test func messagePageShowsHeadersPropertiesAndBodyAsTextAndHex() {
        let page = MessagePages.message(Self.message(body: Self.evil))
        #expect(page.contains("7F000001ABCD"))
        #expect(page.contains("<pre id=\"body-text\">\(Self.evilEscaped)</pre>"))
        #expect(page.contains("3c 73 63 72 69 70 74 3e"))  // "<script>" in hex
        #expect(page.contains("x-evil"))
        #expect(page.contains("/trace?id=7F000001ABCD"))
        Self.expectSafe(page)
    }

    @Test func searchResultsLinkToEachMessage() {
        var q = MessageSearch()
        q.topic = "Orders"
        q.key = Self.evil
        let page = MessagePages.search(q, results: [Self.message(key: Self.evil)])
        #expect(page.contains("hello &lt;b&gt;body&lt;/b&gt;"))
        #expect(page.contains("/message?topic=Orders&amp;id=7F00000100002A9F00000000000004D2"))
        Self.expectSafe(page)
        #expect(MessagePages.search(q, results: []).contains("no message found"))
    }

    @Test func binaryBodyIsNotShownAsText() {
        var m = Self.message()
        m.body = [0xff, 0xfe, 0x00, 0x41]
        let page = MessagePages.message(m)
        #expect(page.contains("(4 bytes, not UTF-8 text)"))
        #expect(page.contains("ff fe 00 41"))
    }

    @Test func traceShowsPubStoreSubInOrder() {
        var pub = TraceRecord(type: TraceRecord.pub)
        pub.timestamp = 1
        pub.group = "PG"
        var store = TraceRecord(type: TraceRecord.store)
        store.timestamp = 2
        store.queueId = 3
        var sub = TraceRecord(type: TraceRecord.subBefore)
        sub.timestamp = 3
        sub.group = Self.evil
        var after = TraceRecord(type: TraceRecord.subAfter)
        after.timestamp = 4
        after.success = true
        let page = MessagePages.trace("ID1", records: [pub, store, sub, after])
        #expect(page.contains("<p id=\"trace-path\">Pub → Store → Sub</p>"))
        #expect(page.contains("queue 3"))
        Self.expectSafe(page)
    }

    @Test func deadLettersOfferRepushOfOneAndAll() {
        var m = Self.message(topic: "%DLQ%G1")
        m.queueOffset = 0
        var done = Self.message(topic: "%DLQ%G1")
        done.queueOffset = 1
        done.properties["UNIQ_KEY"] = "DONE"
        let dl = DeadLetters(brokerAddress: "a:1", messages: [done, m], minOffset: 0, maxOffset: 2, resentOffset: 0)
        var resent = dl
        resent.resentOffset = 2
        let page = OperationPages.deadLetters("G1", [dl])
        #expect(page.contains("id=\"resend-0\"") && page.contains("id=\"resend-1\""))
        #expect(page.contains("id=\"resend-all\""))
        let after = OperationPages.deadLetters("G1", [resent])
        #expect(!after.contains("id=\"resend-0\""))
        #expect(after.contains("re-pushed"))
        let list = OperationPages.deadLetterList([.init(group: "G1", queues: [dl])])
        #expect(list.contains("<span class=\"num dlq-pending\">2</span>"))
    }

    @Test func flowShowsLimitsPerBroker() {
        let body = FlowLimitsBody(defaultTopicRateLimit: 0, topicRateLimits: [Self.evil: 50], sendBackRateLimit: 0,
                                  groupSendBackRateLimits: [:], defaultGroupPullRateLimit: 0, groupPullRateLimits: [:],
                                  dedupWindowSeconds: ["Orders": 60], rateLimited: 3)
        let page = OperationPages.flow(["127.0.0.1:10911": body])
        #expect(page.contains("50 msg/s"))
        #expect(page.contains("60 s"))
        #expect(page.contains("rate limited 3"))
        #expect(page.contains("<option value=\"topicRate\">"))
        Self.expectSafe(page)
    }
}
