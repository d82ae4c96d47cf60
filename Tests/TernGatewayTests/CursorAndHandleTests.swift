import Foundation
import Testing
@testable import TernClient
import TernProtocol
@testable import TernGateway

@Suite struct CursorAndHandleTests {
    @Test func handleRoundTripsAndRefusesGarbage() {
        let h = ReceiptHandle(topic: "%RETRY%G1", brokerName: "broker-a", queueId: 3, queueOffset: 1_234_567_890_123, delivery: 77)
        #expect(ReceiptHandle(text: h.text) == h)
        #expect(!h.text.contains("=") && !h.text.contains("/") && !h.text.contains("+"))
        for bad in ["", "x", "djEgMSAy", String(repeating: "A", count: 2000), "v1 1 2 3 b t"] {
            #expect(ReceiptHandle(text: bad) == nil)
        }
    }

    static func message(_ offset: Int64) -> ReceivedMessage {
        ReceivedMessage(topic: "T", queueId: 0, queueOffset: offset, physicalOffset: offset * 100, flag: 0, sysFlag: 0,
                        body: [1], properties: [:], bornTimestamp: 0, storeTimestamp: 0, bornHost: "", storeHost: "",
                        reconsumeTimes: 0, msgId: "id\(offset)")
    }

    @Test func committedOffsetIsTheLowestUnacknowledged() {
        var c = QueueCursor(queue: MessageQueue(topic: "T", brokerName: "b", queueId: 0))
        #expect(c.committable == nil)
        c.next = 10
        let now = ContinuousClock.now
        let r1 = c.accept((10 ..< 14).map(Self.message), from: 10, nextBeginOffset: 14, now: now)
        #expect(r1)
        let r2 = c.accept([Self.message(99)], from: 10, nextBeginOffset: 100, now: now)
        #expect(!r2)  // stale pull: ignored
        #expect(c.committable == 10)
        let ready = c.ready(now: now, limit: 3, filter: { _ in true })
        #expect(ready == [10, 11, 12])
        for (i, o) in ready.enumerated() { _ = c.deliver(o, delivery: UInt64(i + 1), until: now + .seconds(30)) }
        #expect(c.ready(now: now, limit: 10, filter: { _ in true }) == [13])
        let r3 = c.ack(11, delivery: 2)
        #expect(r3)
        #expect(c.committable == 10)
        let r4 = c.ack(10, delivery: 9)
        #expect(!r4)  // another delivery's handle
        let r5 = c.ack(10, delivery: 1)
        #expect(r5)
        #expect(c.committable == 12)
        let r6 = c.ack(10, delivery: 1)
        #expect(!r6)  // twice
        // Unacknowledged deliveries come back once invisible time passed.
        #expect(c.ready(now: now + .seconds(31), limit: 10, filter: { _ in true }) == [12, 13])
        _ = c.deliver(12, delivery: 5, until: now + .seconds(60))
        let r7 = c.ack(12, delivery: 3)
        #expect(!r7)
        let r8 = c.ack(12, delivery: 5)
        #expect(r8)
        _ = c.deliver(13, delivery: 6, until: now)
        let r9 = c.ack(13, delivery: 6)
        #expect(r9)
        #expect(c.committable == 14)
    }
}
