import Foundation
import NIOCore
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport
import Testing

/// One stored record as the tests look at it.
private struct Seen {
    var body: String
    var topic: String
    var queueId: Int32
    var reconsumeTimes: Int32
    var storeTimestamp: Int64
    var tagCode: Int64
    var props: [String: String]
}

/// CONSUMER_SEND_MSG_BACK, retry / DLQ routing, delay levels, timers and dead-letter admin on a live broker.
@Suite(.serialized) struct RetryDelayTests {
    private static func records(_ f: BrokerFixture, _ topic: String, _ queueId: Int32 = 0) throws -> [Seen] {
        let store = f.broker.store
        _ = store.waitUntilDispatched(store.maxPhysicalOffset)
        let q = QueueKey(topic: topic, queueId: queueId)
        let entries = try store.entries(q, from: 0, maxCount: 1_000)
        return entries.compactMap { e in
            guard let m = store.message(at: e.physicalOffset) else { return nil }
            let r = m.record
            var props: [String: String] = [:]
            for (k, v) in MessageProperties.decode(r.properties) { props[k] = v }
            return Seen(body: String(decoding: r.body, as: UTF8.self), topic: r.topicString, queueId: r.queueId,
                        reconsumeTimes: r.reconsumeTimes, storeTimestamp: r.storeTimestamp, tagCode: e.tagCode, props: props)
        }
    }

    /// Sends `body` to `topic` and returns the commit-log offset of the stored record.
    @discardableResult
    private static func send(_ f: BrokerFixture, _ topic: String, _ body: String, _ props: [(String, String)] = [],
                             reconsumeTimes: Int32 = 0, expect code: Int = ResponseCode.success) async throws -> Int64 {
        var fields = SendFrames.javaFields(topic: topic, properties: SendFrames.properties(props))
        fields.set("reconsumeTimes", reconsumeTimes)
        let r = try await f.call(RequestCode.sendMessage, fields, body: SendFrames.buffer(body))
        #expect(r.code == code, "\(r.remark ?? "")")
        guard code == ResponseCode.success, let id = r.extFields["msgId"], let decoded = MessageId.decodeOffsetId(id) else { return -1 }
        return decoded.physicalOffset
    }

    private static func sendBack(_ f: BrokerFixture, group: String = "G", offset: Int64, delayLevel: Int32 = 0,
                                 maxReconsumeTimes: Int32? = nil, version: Int = 64) async throws -> RemotingCommand {
        var fields: RemotingExtFields = ["group": group]
        fields.set("offset", offset)
        fields.set("delayLevel", delayLevel)
        if let maxReconsumeTimes { fields.set("maxReconsumeTimes", maxReconsumeTimes) }
        let c = try await f.connect()
        defer { c.close() }
        return try await c.request(RemotingCommand(code: RequestCode.consumerSendMsgBack, language: .java, version: version,
                                                   extFields: fields), timeout: .seconds(5))
    }

    /// Short levels (ms) so retries come back within the test.
    private static let fastLevels: [Int64] = [300, 400, 500, 600, 700]

    @Test func sendBackParksInTheLevelOfReconsumeTimesThenLandsInTheRetryTopic() async throws {
        let f = try await BrokerFixture.start { $0.messageDelayLevelMillis = Self.fastLevels }
        let offset = try await Self.send(f, "T", "hello", [("KEYS", "k1"), ("TAGS", "TagA")])
        let r = try await Self.sendBack(f, offset: offset)
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        // delayLevel 0 and reconsumeTimes 0 -> level 3 -> schedule queue 2, due = store time + 500 ms.
        let parked = try #require(try Self.records(f, DelayedDelivery.scheduleTopic, 2).first)
        #expect(parked.props["REAL_TOPIC"] == "%RETRY%G" && parked.props["DELAY"] == "3")
        #expect(parked.tagCode == parked.storeTimestamp + 500)
        #expect(parked.reconsumeTimes == 1)
        #expect(try Self.records(f, "%RETRY%G").isEmpty)

        #expect(await eventually(timeoutMillis: 3_000) { ((try? Self.records(f, "%RETRY%G")) ?? []).count == 1 })
        let retry = try #require(try Self.records(f, "%RETRY%G").first)
        #expect(retry.body == "hello" && retry.reconsumeTimes == 1)
        #expect(retry.props["RETRY_TOPIC"] == "T" && retry.props["KEYS"] == "k1" && retry.props["TAGS"] == "TagA")
        #expect(retry.props["ORIGIN_MESSAGE_ID"] == MessageId.offsetId(storeHost: f.broker.context.storeHost, physicalOffset: offset))
        #expect(retry.props["DELAY"] == nil)
        #expect(retry.storeTimestamp >= parked.tagCode, "delivered before due")
        #expect(retry.tagCode == Int64(TagHash.javaHashCode("TagA")))

        // An explicit level wins; the second send-back of the retry copy keeps RETRY_TOPIC and counts on.
        let retryOffset = try #require(try f.broker.store.entries(QueueKey(topic: "%RETRY%G", queueId: 0), from: 0, maxCount: 1).first?.physicalOffset)
        let again = try await Self.sendBack(f, offset: retryOffset, delayLevel: 1)
        #expect(again.code == ResponseCode.success, "\(again.remark ?? "")")
        let second = try #require(try Self.records(f, DelayedDelivery.scheduleTopic, 0).first)
        #expect(second.reconsumeTimes == 2 && second.props["RETRY_TOPIC"] == "T" && second.props["DELAY"] == "1")
        await f.stop()
    }

    @Test func pastTheMaximumGoesToTheDeadLetterQueue() async throws {
        let f = try await BrokerFixture.start { $0.messageDelayLevelMillis = Self.fastLevels; $0.retryMaxTimes = 2 }
        let fresh = try await Self.send(f, "T", "fresh")
        let tired = try await Self.send(f, "T", "tired", reconsumeTimes: 2)
        #expect(try await Self.sendBack(f, offset: fresh).code == ResponseCode.success)
        #expect(try await Self.sendBack(f, offset: tired).code == ResponseCode.success)
        // delayLevel < 0: straight to the DLQ whatever the count.
        let eager = try await Self.send(f, "T", "eager")
        #expect(try await Self.sendBack(f, offset: eager, delayLevel: -1).code == ResponseCode.success)
        // Header maximum: honoured from version 122 (Java 3.4.9) on, ignored before.
        let one = try await Self.send(f, "T", "one", reconsumeTimes: 1)
        #expect(try await Self.sendBack(f, offset: one, maxReconsumeTimes: 1, version: 122).code == ResponseCode.success)
        let old = try await Self.send(f, "T", "old", reconsumeTimes: 1)
        #expect(try await Self.sendBack(f, offset: old, maxReconsumeTimes: 1, version: 64).code == ResponseCode.success)
        // A plain send to the retry topic past the maximum (Java's fallback) is diverted too.
        try await Self.send(f, "%RETRY%G", "fallback", [("RETRY_TOPIC", "T")], reconsumeTimes: 2)
        try await Self.send(f, "%RETRY%G", "fallback-ok", [("RETRY_TOPIC", "T")], reconsumeTimes: 1)

        let dlq = try Self.records(f, "%DLQ%G")
        #expect(dlq.map(\.body) == ["tired", "eager", "one", "fallback"])
        #expect(dlq.allSatisfy { $0.props["DELAY"] == nil && $0.props["RETRY_TOPIC"] == "T" })
        #expect(dlq.first?.reconsumeTimes == 3)
        #expect(f.broker.context.topics.config("%DLQ%G")?.readQueueNums == 1)
        #expect(await eventually(timeoutMillis: 3_000) { ((try? Self.records(f, "%RETRY%G")) ?? []).count == 3 })
        #expect(Set(try Self.records(f, "%RETRY%G").map(\.body)) == ["fallback-ok", "fresh", "old"])

        // Unknown offsets are a SYSTEM_ERROR, not a crash.
        #expect(try await Self.sendBack(f, offset: 1 << 40).code == ResponseCode.systemError)
        await f.stop()
    }

    /// A plain send to `%RETRY%<group>` without a maximum uses the subscription group's `retryMaxTimes`
    /// (Java's `handleRetryAndDLQ`), not the broker default.
    @Test func retryTopicSendUsesTheGroupsRetryMaxTimes() async throws {
        let f = try await BrokerFixture.start { $0.retryMaxTimes = 16 }
        f.broker.context.groups.update(SubscriptionGroupConfig(groupName: "G", retryMaxTimes: 1))
        try await Self.send(f, "%RETRY%G", "dead", [("RETRY_TOPIC", "T")], reconsumeTimes: 1)
        try await Self.send(f, "%RETRY%H", "alive", [("RETRY_TOPIC", "T")], reconsumeTimes: 1)
        #expect(try Self.records(f, "%DLQ%G").map(\.body) == ["dead"])
        #expect(await eventually(timeoutMillis: 3_000) { ((try? Self.records(f, "%RETRY%H")) ?? []).map(\.body) == ["alive"] })
        await f.stop()
    }

    /// The send hooks' one pass over the properties also finds DELAY / TIMER_* for routing, wherever the name
    /// sits (after a request's REPLY_TO_CLIENT, which gets CLUSTER added, or alone at the end).
    @Test func delayFoundInTheHooksPass() async throws {
        let f = try await BrokerFixture.start()
        let sends = SendService(context: f.broker.context)
        for properties in [[("REPLY_TO_CLIENT", "c1"), ("KEYS", "k"), ("DELAY", "2")], [("KEYS", "k"), ("DELAY", "2")]] {
            let outcome = sends.send(try SendPullServiceTests.request("T", body: "b", properties: properties))
            guard case .stored = outcome else { Issue.record("not stored: \(outcome)"); continue }
        }
        let parked = try Self.records(f, DelayedDelivery.scheduleTopic, 1)
        #expect(parked.count == 2 && parked.allSatisfy { $0.props["REAL_TOPIC"] == "T" })
        #expect(parked.first?.props["CLUSTER"] != nil && parked.last?.props["CLUSTER"] == nil)
        let timed = sends.send(try SendPullServiceTests.request("T", body: "t", properties: [("KEYS", "k"), ("TIMER_DELAY_SEC", "3600")]))
        guard case .stored = timed else { Issue.record("not stored: \(timed)"); return await f.stop() }
        #expect(try Self.records(f, DelayedDelivery.timerTopic, 0).count == 1)
        #expect(try Self.records(f, "T").isEmpty)
        await f.stop()
    }

    @Test func delayLevelTwoIsNotVisibleBeforeFiveSecondsAndIsBy5_5() async throws {
        let f = try await BrokerFixture.start()
        try await Self.send(f, "T", "later", [("DELAY", "2")])
        let sent = Clock.wallMillis()
        let parked = try #require(try Self.records(f, DelayedDelivery.scheduleTopic, 1).first)
        let due = parked.storeTimestamp + 5_000
        #expect(parked.tagCode == due)
        var visibleAt: Int64 = 0
        while Clock.wallMillis() - sent < 7_000 {
            if let r = try Self.records(f, "T").first {
                visibleAt = Clock.wallMillis()
                #expect(r.storeTimestamp >= due)
                #expect(r.props["DELAY"] == nil && r.props["REAL_TOPIC"] == "T")
                break
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(visibleAt >= due, "visible \(due - visibleAt) ms early")
        #expect(visibleAt > 0 && visibleAt - due <= 500, "visible \(visibleAt - due) ms after due")
        await f.stop()
    }

    @Test func delayedAndTimedMessagesSurviveARestartOnceEach() async throws {
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let configure: (inout BrokerConfig) -> Void = {
            $0.messageDelayLevelMillis = [3_000, 60_000]
            $0.clock = clock
        }
        var f = try await BrokerFixture.start(configure: configure)
        let dir = f.storeDir
        try await Self.send(f, "T", "level", [("DELAY", "1")])
        try await Self.send(f, "T", "timer", [("TIMER_DELIVER_MS", String(clock.wallMillis() + 3_000))])
        try await Self.send(f, "T", "timer-sec", [("TIMER_DELAY_SEC", "3")])
        try await Self.send(f, "T", "far", [("DELAY", "2")])
        _ = f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset)
        #expect(try f.broker.store.indexStatistics().timers == 2)
        await f.stop(keepStore: true)
        f = try await BrokerFixture.start(storeDir: dir, configure: configure)
        try await f.advance(clock, millis: 0, runningTimer: "schedule")
        #expect(try Self.records(f, "T").isEmpty, "delivered early")
        // Ten seconds later by the clock: the three due in three seconds are delivered, the 60 s level is not.
        try await f.advance(clock, millis: 10_000, runningTimer: "schedule")
        #expect(await eventually(timeoutMillis: 5_000) { ((try? Self.records(f, "T")) ?? []).count == 3 })
        // Delivered: progress and timer removal are derived from the delivered records; another restart
        // (and a full index rebuild from the log) must not deliver again.
        await f.stop(keepStore: true)
        try FileManager.default.removeItem(atPath: dir + "/index")
        f = try await BrokerFixture.start(storeDir: dir, configure: configure)
        try await f.advance(clock, millis: 0, runningTimer: "schedule")
        try await f.advance(clock, millis: 0, runningTimer: "schedule")
        #expect(try Self.records(f, "T").map(\.body).sorted() == ["level", "timer", "timer-sec"])
        #expect(try f.broker.store.indexStatistics().timers == 0)
        #expect(try f.broker.store.consumerOffset(group: DelayedDelivery.progressGroup,
                                                         queue: QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: 0)) == 1)
        await f.stop()
    }

    @Test func timerBoundsAndBadValues() async throws {
        let f = try await BrokerFixture.start { $0.timerMaxDelaySec = 3_600 }
        try await Self.send(f, "T", "too-far", [("TIMER_DELAY_SEC", "3601")], expect: ResponseCode.messageIllegal)
        try await Self.send(f, "T", "bad", [("TIMER_DELIVER_MS", "soon")], expect: ResponseCode.messageIllegal)
        // Due in the past: delivered at once, not parked.
        try await Self.send(f, "T", "past", [("TIMER_DELIVER_MS", "1000")])
        #expect(try Self.records(f, "T").map(\.body) == ["past"])
        try await Self.send(f, "T", "in-range", [("TIMER_DELAY_SEC", "3500")])
        let parked = try #require(try Self.records(f, DelayedDelivery.timerTopic).first)
        #expect(parked.props["REAL_TOPIC"] == "T" && Int64(parked.props["TIMER_OUT_MS"] ?? "") != nil)
        await f.stop()
    }

    @Test func deadLettersAreListedAndResentOnce() async throws {
        let f = try await BrokerFixture.start()
        var ids: [String] = []
        for body in ["d0", "d1", "d2"] {
            let offset = try await Self.send(f, "T", body, [("UNIQ_KEY", "U-\(body)")])
            #expect(try await Self.sendBack(f, offset: offset, delayLevel: -1).code == ResponseCode.success)
            ids.append("U-\(body)")
        }
        let listed = try await f.call(DeadLetterRequestCode.queryDeadLetters, ["group": "G"])
        #expect(listed.code == ResponseCode.success)
        #expect(decodeRecords(listed.body).map(\.body) == ["d0", "d1", "d2"])
        #expect(listed.extFields.int64("maxOffset") == 3 && listed.extFields.int64("resentOffset") == 0)

        // One by UNIQ_KEY, then all not yet re-sent (the cursor covers all three: d1 is sent twice by design,
        // as asked), then nothing.
        var r = try await f.call(DeadLetterRequestCode.resendDeadLetters, ["group": "G", "msgId": "U-d1"])
        #expect(r.code == ResponseCode.success && r.extFields.int64("resent") == 1)
        r = try await f.call(DeadLetterRequestCode.resendDeadLetters, ["group": "G"])
        #expect(r.extFields.int64("resent") == 3)
        r = try await f.call(DeadLetterRequestCode.resendDeadLetters, ["group": "G"])
        #expect(r.extFields.int64("resent") == 0)
        r = try await f.call(DeadLetterRequestCode.resendDeadLetters, ["group": "G", "msgId": "nope"])
        #expect(r.code == ResponseCode.queryNotFound)

        var back: [Seen] = []
        for q in Int32(0)..<8 { back += try Self.records(f, "T", q).filter { $0.props["RETRY_TOPIC"] != nil } }
        #expect(back.map(\.body).sorted() == ["d0", "d1", "d1", "d2"])
        #expect(back.allSatisfy { $0.reconsumeTimes == 0 && $0.props["RETRY_TOPIC"] == "T" && $0.props["DELAY"] == nil })
        let after = try await f.call(DeadLetterRequestCode.queryDeadLetters, ["group": "G"])
        #expect(decodeRecords(after.body).isEmpty && after.extFields.int64("resentOffset") == 3)
        await f.stop()
    }
}

@Suite struct DelayLevelConfigTests {
    @Test func messageDelayLevelParsesUnitsAndRejectsJunk() throws {
        var c = BrokerConfig()
        #expect(c.messageDelayLevelMillis.count == 18 && c.messageDelayLevelMillis[1] == 5_000 && c.messageDelayLevelMillis[17] == 7_200_000)
        #expect(try c.set("messageDelayLevel", "1s 2m\t3h 1d") == nil)
        #expect(c.messageDelayLevelMillis == [1_000, 120_000, 10_800_000, 86_400_000])
        #expect(c.storeConfig.delayLevelMillis == c.messageDelayLevelMillis)
        for bad in ["", "5", "1x", "-1s", "0s", "1s two"] {
            #expect(throws: BrokerError.self) { _ = try c.set("messageDelayLevel", bad) }
        }
        #expect(try c.set("retryMaxTimes", "3") == nil && c.retryMaxTimes == 3)
        #expect(try c.set("timerMaxDelaySec", "60") == nil && c.timerMaxDelaySec == 60)
    }

    @Test func levelsBeyondTheTableAreCapped() {
        #expect(DelayedDelivery.delayMillis(level: 2, DelayedDelivery.defaultLevelMillis) == 5_000)
        #expect(DelayedDelivery.delayMillis(level: 99, DelayedDelivery.defaultLevelMillis) == 7_200_000)
        #expect(DeliveryMark("S3:17") == .schedule(queueId: 3, queueOffset: 17))
        #expect(DeliveryMark("T100:200") == .timer(TimerEntry(due: 100, physicalOffset: 200)))
        #expect(DeliveryMark("X1:2") == nil && DeliveryMark("S:2") == nil)
    }
}
