import Foundation
import Testing
import TernMessage
import TernStorage
import TernSystem

@Suite("OfflineStore.verify")
struct VerifyTests {
    @Test func passesOnASoundStore() throws {
        let f = try Fixture(); defer { f.remove() }
        let s = try f.open(); defer { s.close() }
        let report = try s.verify()
        #expect(report.isClean, "\(report.problems)")
        #expect(report.recordsScanned == f.appended.count)
        #expect(report.entriesChecked == f.appended.filter(\.consumable).count)
        #expect(report.keysChecked == 3 * f.appended.count)  // two KEYS values and a UNIQ_KEY each
        #expect(report.validEnd == f.validEnd && report.checkpoint == f.validEnd)
        #expect(report.segmentsScanned >= 2)
    }

    @Test func reportsEachDamagedRecordAsLostAndWalksOnAfterIt() throws {
        let f = try Fixture(); defer { f.remove() }
        let first = f.record(inSegment: 0), second = f.record(inSegment: 1)
        try f.flipBodyByte(of: first)
        try f.flipBodyByte(of: second)
        let s = try f.open(); defer { s.close() }
        let report = try s.verify()
        #expect(report.problems.map(\.kind) == [.damagedRange, .damagedRange], "\(report.problems)")
        #expect(report.problems.map(\.offset) == [first.result.physicalOffset, second.result.physicalOffset])
        #expect(report.problems.allSatisfy { $0.message.contains("body CRC mismatch") })
        // Damage in the middle is stepped over: every other record is walked, up to the real end.
        #expect(report.recordsScanned == f.appended.count - 2)
        #expect(report.validEnd == f.validEnd)

        let stats = try s.stats()
        #expect(stats.validEnd == f.validEnd && stats.invalidRecord == nil)
        #expect(stats.damagedRanges.map { $0.start..<$0.end } == [first, second].map {
            $0.result.physicalOffset..<$0.result.endOffset
        })
        #expect(stats.index?.unindexedTailBytes == 0)
    }

    @Test func acceptsIndexLagButNotMissingEntriesBelowTheCheckpoint() throws {
        let f = try Fixture(); defer { f.remove() }
        let cut = f.appended[800].result.physicalOffset
        let original: DispatchCheckpoint
        do {
            let index = try f.openIndex(); defer { index.close() }
            original = try index.checkpoint()
            try index.truncate(from: cut, lastRecord: f.appended[799].result.physicalOffset)
        }
        // A lagging index is the unindexed tail recovery will dispatch: not a problem.
        do {
            let s = try f.open(); defer { s.close() }
            let report = try s.verify()
            #expect(report.isClean, "\(report.problems)")
            #expect(report.checkpoint == cut)
            #expect(try s.stats().index?.unindexedTailBytes == f.validEnd - cut)
        }
        // The checkpoint claims the tail again, but its entries are gone.
        do {
            let index = try f.openIndex(); defer { index.close() }
            try index.apply(DispatchBatch(records: [], checkpoint: original))
        }
        let s = try f.open(); defer { s.close() }
        let report = try s.verify(maxProblems: 10_000)
        let tail = f.appended[800...]
        let missingEntries = report.problems.filter { $0.kind == .missingEntry }.map(\.offset)
        #expect(missingEntries == tail.filter(\.consumable).map(\.result.physicalOffset))
        #expect(report.problems.filter { $0.kind == .missingKey }.count == 3 * tail.count)
        #expect(report.problemCount == missingEntries.count + 3 * tail.count)
    }

    @Test func reportsARecordWhoseQueueIdNoLongerMatchesItsEntry() throws {
        let f = try Fixture(); defer { f.remove() }
        let victim = f.appended[601]  // Orders/1, consumable
        #expect(victim.topic == "Orders" && victim.queueId == 1 && victim.consumable)
        // QUEUEID (offset 12) is not covered by the body CRC: only the cross-check can see this.
        try f.overwriteLog(at: victim.result.physicalOffset + 12, with: [0, 0, 0, 2])
        let s = try f.open(); defer { s.close() }
        let report = try s.verify()
        let offset = victim.result.physicalOffset
        #expect(report.problems.map(\.offset) == [offset, offset])
        #expect(Set(report.problems.map(\.kind)) == [.entryMismatch, .missingEntry])
        let mismatch = try #require(report.problems.first { $0.kind == .entryMismatch })
        #expect(mismatch.message.contains("queue: record Orders/2, entry Orders/1"))
    }

    @Test func reportsAnEntryThatPointsAtTheWrongRecord() throws {
        let f = try Fixture(); defer { f.remove() }
        let target = f.appended[600], other = f.appended[601]  // Orders/0 and Orders/1
        do {
            let index = try f.openIndex(); defer { index.close() }
            try index.truncate(from: target.result.physicalOffset, lastRecord: f.appended[599].result.physicalOffset)
            // Index record 600 as if it were stored where 601 is.
            let wrong = ConsumeQueueEntry(queueOffset: target.result.queueOffset, physicalOffset: other.result.physicalOffset,
                                          size: Int32(target.result.size), tagCode: Int64(TagHash.javaHashCode("even")),
                                          storeTimestamp: target.result.storeTimestamp)
            var record = DispatchRecord(queueId: 0, entry: wrong)
            var text: [UInt8] = []
            record.setText(keys: target.keys, uniqueKey: target.uniqueKey, in: &text)
            try index.apply(DispatchBatch(records: [record], topics: ["Orders"], text: text, checkpoint: DispatchCheckpoint(
                offset: target.result.endOffset, lastRecord: target.result.physicalOffset)))
        }
        let s = try f.open(); defer { s.close() }
        let report = try s.verify()
        // 600's entry and keys point at 601, which also lies at the checkpoint: four findings at 600, two at 601.
        #expect(report.problems.map(\.kind)
            == [.missingEntry, .missingKey, .missingKey, .missingKey, .entryBeyondCheckpoint, .entryMismatch])
        #expect(report.problems.first?.offset == target.result.physicalOffset)
        #expect(report.problems.first?.message.contains("points at \(other.result.physicalOffset)") == true)
        #expect(report.problems.last?.offset == other.result.physicalOffset)
    }
}

@Suite("OfflineStore.rebuildIndex")
struct RebuildTests {
    @Test func reproducesQueuesAndLookupsAndKeepsConsumerOffsets() throws {
        let f = try Fixture(); defer { f.remove() }
        let queuesBefore: [QueueInfo]
        let keyBefore: [RecordSummary], uniqueBefore: [RecordSummary]
        do {
            let s = try f.open(); defer { s.close() }
            queuesBefore = try s.queues()
            keyBefore = try s.find(topic: "Orders", key: "customer-4", limit: 1_000)
            uniqueBefore = try s.find(uniqueKey: f.appended[1_000].uniqueKey)
        }
        do {  // Damage the derived state first: the rebuild must not depend on it.
            let index = try f.openIndex(); defer { index.close() }
            try index.truncate(from: f.appended[300].result.physicalOffset, lastRecord: f.appended[299].result.physicalOffset)
        }
        var progress: [RebuildProgress] = []
        let report: RebuildReport
        do {
            let s = try f.open(.readWrite); defer { s.close() }
            report = try s.rebuildIndex(batchSize: 100, progressEvery: 250) { progress.append($0) }
        }
        #expect(report.records == f.appended.count && report.batches >= f.appended.count / 100)
        #expect(report.fromOffset == 0 && report.validEnd == f.validEnd && report.invalidRecord == nil)
        #expect(report.queues == 4 && report.consumerOffsetsKept == 1)
        #expect(progress.count >= f.appended.count / 250)
        #expect(progress.last?.records == f.appended.count && progress.last?.offset == f.validEnd && progress.last?.end == f.validEnd)
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.offset <= $1.offset && $0.records <= $1.records })

        let s = try f.open(); defer { s.close() }
        #expect(try s.queues() == queuesBefore)
        #expect(try s.find(topic: "Orders", key: "customer-4", limit: 1_000) == keyBefore)
        #expect(try s.find(uniqueKey: f.appended[1_000].uniqueKey) == uniqueBefore)
        let index = try #require(s.index)
        #expect(try index.consumerOffset(group: Fixture.group, queue: QueueKey(topic: "Orders", queueId: 1)) == 42)
        #expect(try s.verify().isClean)
    }

    @Test func rebuildStepsOverDamageAndTheBrokerKeepsEverythingAfterIt() throws {
        let f = try Fixture(); defer { f.remove() }
        let victim = f.appended[700]
        try f.flipBodyByte(of: victim)
        let lost = victim.result.physicalOffset..<victim.result.endOffset
        do {
            let s = try f.open(.readWrite); defer { s.close() }
            let report = try s.rebuildIndex()
            #expect(report.records == f.appended.count - 1)
            #expect(report.validEnd == f.validEnd && report.invalidRecord == nil)
            #expect(report.damagedRanges.map { $0.start..<$0.end } == [lost])
            #expect(report.damagedRanges.first?.reason.hasPrefix("body CRC mismatch") == true)
        }
        // What the tool promised: the broker keeps the log whole, loses only the damaged record.
        let store = try MessageStore.open(Fixture.config(f.root)).start()
        #expect(store.recovery.validEnd == f.validEnd && store.recovery.replayedRecords == 0)
        #expect(store.recovery.deletedSegments == 0 && store.recovery.tailProblem == nil)
        #expect(store.message(at: victim.result.physicalOffset) == nil)
        let survivors = f.appended.filter { $0.result.physicalOffset != victim.result.physicalOffset }
        #expect(survivors.allSatisfy { store.message(at: $0.result.physicalOffset) != nil })
        store.close()
        let s = try f.open(); defer { s.close() }
        let report = try s.verify()
        #expect(report.problems.map(\.kind) == [.damagedRange], "\(report.problems)")
        #expect(report.recordsScanned == f.appended.count - 1)
    }

    @Test func needsAWritableIndex() throws {
        let f = try Fixture(count: 10); defer { f.remove() }
        let s = try f.open(); defer { s.close() }
        #expect(throws: OfflineStoreError.self) { try s.rebuildIndex() }
        #expect(try s.stats().index?.queueEntries == 10)
    }
}
