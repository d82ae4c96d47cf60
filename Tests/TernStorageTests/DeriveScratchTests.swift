import Testing
import TernMessage
@testable import TernStorage

/// Records name their topic by a position in the batch's topic table: one position per topic whatever the order
/// the topics come in, past the linear-search size, across batches, and after the table is emptied.
@Suite struct DeriveScratchTests {
    /// `derive` of a record of `topic` (a whole record, as the log holds it).
    static func derive(_ topic: [UInt8], queueId: Int32 = 0, _ scratch: inout DeriveScratch) -> DispatchRecord {
        var d = draft(queueId: queueId, body: "b")
        d.topic = topic
        let bytes = d.encoded(queueOffset: 0, physicalOffset: 0, storeTimestamp: 1)
        return bytes.withUnsafeBytes { Dispatcher.derive(0, RecordView($0), .default, &scratch) }
    }

    @Test func eachTopicKeepsOnePosition() {
        var scratch = DeriveScratch()
        let names = (0..<(DeriveScratch.linearSearchLimit + 8)).map { "topic-\($0)-\(String(repeating: "x", count: $0))" }
        // Alternating, then every topic in turn twice: the table's first 16 are found by bytes, the rest by String.
        var seen: [String: Int32] = [:]
        for round in 0..<2 {
            scratch.startBatch()
            for name in names + names.reversed() + ["topic-0-", names[1], "topic-0-"] {
                let d = Self.derive(Array(name.utf8), &scratch)
                #expect(scratch.topic(d.topic) == name)
                if let known = seen[name] { #expect(known == d.topic, "round \(round): \(name)") } else { seen[name] = d.topic }
            }
        }
        #expect(Set(seen.values).count == names.count)
        #expect(scratch.topics.count == names.count)
    }

    @Test func kindsFollowTheTopicAndTheTableEmptiesPastItsSize() {
        var scratch = DeriveScratch()
        let schedule = Self.derive(Array(DelayedDelivery.scheduleTopic.utf8), queueId: 1, &scratch)
        let plain = Self.derive(Array("Orders".utf8), &scratch)
        #expect(scratch.currentKind == .plain)
        _ = Self.derive(Array(DelayedDelivery.scheduleTopic.utf8), queueId: 1, &scratch)
        #expect(scratch.currentKind == .schedule)
        #expect(schedule.entry.tagCode != 0 && plain.entry.tagCode == 0)  // a due time, from the kind
        for i in 0..<DeriveScratch.maxTopics { _ = Self.derive(Array("t\(i)".utf8), &scratch) }
        scratch.startBatch()
        #expect(scratch.topics.isEmpty)
        let again = Self.derive(Array("Orders".utf8), &scratch)
        #expect(again.topic == 0 && scratch.topic(0) == "Orders" && scratch.currentKind == .plain)
    }

    /// Two names that are not UTF-8 and decode to one String share its position: one queue, one position.
    @Test func namesDecodingToOneStringShareAPosition() {
        var scratch = DeriveScratch()
        let a = Self.derive([0x41, 0xFF], &scratch), b = Self.derive([0x41, 0xFE], &scratch)
        #expect(scratch.topic(a.topic) == scratch.topic(b.topic))
        #expect(a.topic == b.topic)
        #expect(scratch.topics.count == 1)
    }
}
