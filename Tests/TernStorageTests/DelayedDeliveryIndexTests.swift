import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// The derived state of delayed delivery on both backends: due-time tag codes, the timer table, delivery
/// marks (progress never goes back, timers leave), retention, and rebuild from the log.
@Suite("Delayed delivery index on both backends")
struct DelayedDeliveryIndexTests {
    private static let schedule = DelayedDelivery.scheduleTopic, timer = DelayedDelivery.timerTopic

    private static func progress(_ store: MessageStore, _ queueId: Int32) throws -> Int64? {
        try store.index.consumerOffset(group: DelayedDelivery.progressGroup, queue: QueueKey(topic: schedule, queueId: queueId))
    }

    @Test(arguments: Backend.allCases)
    func tagCodesTimersAndMarks(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        var config = smallConfig(dir, backend)
        config.delayLevelMillis = [1_000, 7_000]
        var store = try MessageStore.open(config).start()
        _ = try store.append(draft(topic: Self.schedule, queueId: 1, body: "lvl2", tags: "T"))
        let levelCapped = try store.append(draft(topic: Self.schedule, queueId: 5, body: "cap"))
        let t1 = try store.append(draft(topic: Self.timer, body: "t1", extra: [("TIMER_OUT_MS", "5000")]))
        let t2 = try store.append(draft(topic: Self.timer, body: "t2", extra: [("TIMER_OUT_MS", "3000")]))
        _ = try store.append(draft(topic: "Other", body: "not a timer", extra: [("TIMER_OUT_MS", "1")]))
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))

        let e = try #require(try store.index.entries(QueueKey(topic: Self.schedule, queueId: 1), from: 0, maxCount: 1).first)
        #expect(e.tagCode == e.storeTimestamp + 7_000)
        let capped = try #require(try store.index.entries(QueueKey(topic: Self.schedule, queueId: 5), from: 0, maxCount: 1).first)
        #expect(capped.tagCode == capped.storeTimestamp + 7_000 && capped.physicalOffset == levelCapped.physicalOffset)
        #expect(try store.index.timers(dueBy: .max, limit: 10) == [TimerEntry(due: 3_000, physicalOffset: t2.physicalOffset),
                                                                  TimerEntry(due: 5_000, physicalOffset: t1.physicalOffset)])
        #expect(try store.index.timers(dueBy: 4_000, limit: 10).count == 1)
        #expect(try store.index.firstTimer()?.due == 3_000)

        // Delivered copies: the mark moves progress / removes the timer; a stale mark does not move progress back.
        let mark2 = DeliveryMark.schedule(queueId: 1, queueOffset: 0).propertyValue
        _ = try store.append(draft(topic: "Real", body: "lvl2", extra: [("TERN_DELIVERED", mark2)]))
        _ = try store.append(draft(topic: "Real", body: "t2", extra: [("TERN_DELIVERED", "T3000:\(t2.physicalOffset)")]))
        _ = try store.append(draft(topic: "Real", body: "x", extra: [("TERN_DELIVERED", "S1:4")]))
        _ = try store.append(draft(topic: "Real", body: "y", extra: [("TERN_DELIVERED", "S1:2")]))
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        #expect(try Self.progress(store, 1) == 5)
        #expect(try store.index.timers(dueBy: .max, limit: 10).map(\.physicalOffset) == [t1.physicalOffset])
        store.close()

        // Rebuilt from the log (LMDB: index dropped; in-memory: always): the same state.
        if backend == .lmdb { try FileSystem.removeRecursively(config.indexPath) }
        store = try MessageStore.open(config).start()
        #expect(try Self.progress(store, 1) == 5)
        #expect(try store.index.timers(dueBy: .max, limit: 10).map(\.physicalOffset) == [t1.physicalOffset])
        // Retention below the remaining timer drops it.
        try store.index.deleteBelow(t1.physicalOffset + 1, firstStoreTimestamp: 0)
        #expect(try store.index.firstTimer() == nil)
        store.close()
    }
}

