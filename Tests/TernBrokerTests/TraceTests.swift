import Foundation
import NIOCore
import NIOPosix
@testable import TernBroker
import TernClient
import TernMessage
import TernNameServer
import TernProtocol
import TernStorage
import Testing

/// A trace body as the Java client's `TraceDataEncoder` writes it: fields 0x01, records end with 0x02.
private func traceBody(_ records: [[String]]) -> String {
    records.map { $0.joined(separator: "\u{01}") + "\u{02}" }.joined()
}

@Suite struct TraceRecordTests {
    @Test func decodesJavaRecordsAndSkipsUnknownOnes() {
        let body = traceBody([
            ["Pub", "1000", "DefaultRegion", "PG", "T", "U1", "TagA", "k1", "127.0.0.1:10911", "5", "3", "0", "OFF1", "true"],
            ["SubBefore", "1010", "DefaultRegion", "CG", "req-1", "U1", "0", "k1"],
            ["SubAfter", "req-1", "U1", "7", "false", "k1", "0"],
            ["EndTransaction", "1005", "DefaultRegion", "PG", "T", "U1", "TagA", "k1", "h", "1", "tx", "COMMIT_MESSAGE", "false"],
            ["Bogus", "1"],
            ["Pub", "too", "short"],
        ])
        let records = TraceRecord.decode(Array(body.utf8))
        #expect(records.map(\.type) == ["Pub", "SubBefore", "SubAfter", "EndTransaction"])
        #expect(records[0].timestamp == 1000 && records[0].group == "PG" && records[0].offsetMsgId == "OFF1")
        #expect(records[0].costMillis == 3 && records[0].success == true && records[0].storeHost == "127.0.0.1:10911")
        #expect(records[1].requestId == "req-1" && records[1].retryTimes == 0)
        #expect(records[2].success == false && records[2].timestamp == nil && records[2].costMillis == 7)
        #expect(records[3].transactionState == "COMMIT_MESSAGE")
        // Old SubAfter records borrow time and group from their SubBefore.
        let ordered = TraceTimeline.order(records.reversed())
        #expect(ordered.map(\.type) == ["Pub", "EndTransaction", "SubBefore", "SubAfter"])
        #expect(ordered[3].timestamp == 1017 && ordered[3].group == "CG")
    }

    @Test func storeRecordRoundTrips() {
        let bytes = TraceRecord.encodeStore(timestamp: 5, region: "R", brokerName: "b", topic: "T", msgId: "U", offsetMsgId: "O",
                                            queueId: 2, queueOffset: 9, storeHost: "h:1", costMillis: 4, success: true)
        let r = TraceRecord.decode(bytes)
        #expect(r.count == 1)
        #expect(r.first?.type == "Store" && r.first?.timestamp == 5 && r.first?.group == "b" && r.first?.queueId == 2)
        #expect(r.first?.queueOffset == 9 && r.first?.offsetMsgId == "O" && r.first?.costMillis == 4 && r.first?.success == true)
    }
}

@Suite struct TraceRecorderTests {
    @Test func brokerRecordsStoreEventsAndAdminShowsTheTrace() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ns = try await startLocalNameServer(group: group)
        let nsAddress = "127.0.0.1:\(ns.port)"
        let f = try await BrokerFixture.start { $0.namesrvAddr = [nsAddress]; $0.traceTopicEnable = true }
        let trace = "RMQ_SYS_TRACE_TOPIC"
        #expect(f.broker.context.topics.config(trace) != nil)

        try f.createTopic("T", queues: 1)
        try f.put("T", properties: [("KEYS", "order-1"), ("TAGS", "TagA")], body: "traced")
        let stored = try #require(try f.broker.store.getMessages(QueueKey(topic: "T", queueId: 0), from: 0, maxCount: 1).messages.first)
        let uniq = try #require(MessageProperties.value(of: "UNIQ_KEY", in: stored.record.properties).map { String(decoding: $0, as: UTF8.self) })
        let offsetId = MessageId.offsetId(storeHost: f.broker.context.storeHost, physicalOffset: stored.physicalOffset)
        let born = stored.record.bornTimestamp

        // What a Java producer and consumer with tracing on send (KEYS = traced id + its keys).
        try f.put(trace, properties: [("KEYS", "\(uniq) order-1")], body: traceBody([
            ["Pub", String(born), "DefaultRegion", "PG", "T", uniq, "TagA", "order-1", f.broker.context.storeHost.description,
             "6", "2", "0", offsetId, "true"],
        ]))
        try f.put(trace, properties: [("KEYS", "\(uniq) order-1")], body: traceBody([
            ["SubBefore", String(born + 50), "DefaultRegion", "CG", "r1", uniq, "0", "order-1"],
            ["SubAfter", "r1", uniq, "12", "true", "order-1", "0", String(born + 62), "CG"],
        ]))

        let runtime = ClientRuntime(options: ClientOptions(nameServer: nsAddress), group: group)
        let admin = AdminClient(runtime: runtime)
        var records: [TraceRecord] = []
        for _ in 0..<50 {
            records = (try? await admin.trace(msgId: uniq)) ?? []
            if records.contains(where: { $0.type == "Store" }) { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(records.map(\.type) == ["Pub", "Store", "SubBefore", "SubAfter"], "\(records)")
        let store = try #require(records.first { $0.type == "Store" })
        #expect(store.timestamp == stored.record.storeTimestamp && store.queueId == 0 && store.queueOffset == 0)
        #expect(store.offsetMsgId == offsetId && store.msgId == uniq && store.group == f.broker.context.config.brokerName)
        #expect(store.costMillis == max(0, stored.record.storeTimestamp - born) && store.success == true)
        // By offset id: the Store record links it to the unique id, so the whole trace comes back.
        #expect(try await admin.trace(msgId: offsetId).map(\.type) == ["Pub", "Store", "SubBefore", "SubAfter"])
        runtime.shutdown()

        // Restart: the recorder resumes after what it did; no second Store record.
        await f.stop(keepStore: true)
        let again = try await BrokerFixture.start(storeDir: f.storeDir) { $0.namesrvAddr = [nsAddress] }
        let recorder = TraceRecorder(context: again.broker.context)
        #expect(recorder.scan() == 0)
        let traceMessages = try again.broker.store.lookup(topic: trace, key: uniq)
        let storeRecords = traceMessages.flatMap { (m: StoredMessage) -> [TraceRecord] in TraceRecord.decode(Array(m.record.body)) }
            .filter { $0.type == "Store" }
        #expect(storeRecords.count == 1)
        await again.stop()
        await ns.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func failedOrForeignSendsGetNoStoreRecord() async throws {
        let f = try await BrokerFixture.start()
        defer { Task { await f.stop() } }
        try f.createTopic("rmq_sys_TRACE_DATA_DefaultRegion", queues: 1)
        try f.put("rmq_sys_TRACE_DATA_DefaultRegion", properties: [("KEYS", "X")], body: traceBody([
            ["Pub", "1", "DefaultRegion", "PG", "T", "NOT-STORED-HERE", "", "", "10.0.0.1:10911", "1", "1", "0",
             "0A00000100002A9F0000000000000000", "true"],
            ["Pub", "1", "DefaultRegion", "PG", "T", "X", "", "", "", "1", "1", "0", "", "false"],
        ]))
        let recorder = TraceRecorder(context: f.broker.context)
        #expect(recorder.scan() == 0)
        let progress = try f.broker.store.consumerOffset(group: TraceRecorder.group,
                                                               queue: QueueKey(topic: "rmq_sys_TRACE_DATA_DefaultRegion", queueId: 0))
        #expect(progress == 1)
    }
}
