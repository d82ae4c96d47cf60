import Foundation
import Logging
import Synchronization
import TernMessage
import TernStorage
import TernSystem

/// Moves parked messages (delay levels and timers, see `DeliveryRouting`) to their real topic when due.
///
/// One thread walks every level queue of `SCHEDULE_TOPIC_XXXX` from its progress and the timer table from its
/// earliest entry; a due record is re-appended to REAL_TOPIC / REAL_QID with DELAY and the timer properties
/// removed (body, flag, sysflag, born time / host, store host, reconsume times kept; new store time) and a
/// `TERN_DELIVERED` mark naming its source. Dispatching that record advances the level's progress or removes
/// the timer entry in the same index transaction (DelayedDelivery.swift), so there is no separate progress
/// write to lose or to repeat: after `kill -9` the service resumes exactly after the last delivered record.
/// Due times within a level are non-decreasing (store order), so a level stops at its first future entry.
/// The thread sleeps until the next known due time, at most `pollMillis` (new arrivals), so a message becomes
/// visible shortly after it is due (plus dispatch) and never before.
final class ScheduleService: Sendable {
    static let pollMillis: Int64 = 50
    static let batch = 256

    private let context: BrokerContext
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)
    private let wakeup = DispatchSemaphore(value: 0)
    /// Next schedule-queue offset per level queue (in memory; the index holds the dispatched truth).
    private let cursors = Mutex<[Int32: Int64]>([:])
    /// Timers delivered whose delivered copy is not dispatched yet (their entry is still in the table), with
    /// the end offset of that copy.
    private let inFlight = Mutex<[TimerEntry: Int64]>([:])

    init(context: BrokerContext) {
        self.context = context
    }

    func start() {
        let t = Thread { [self] in
            Thread.sleep(forTimeInterval: 0.2)  // recovery is done; let the broker finish starting
            while running.load(ordering: .acquiring) {
                let next = runOnce(now: Clock.wallMillis())
                let wait = max(1, min(next - Clock.wallMillis(), Self.pollMillis))
                _ = wakeup.wait(timeout: .now() + .milliseconds(Int(wait)))
            }
            stopped.signal()
        }
        t.name = "tern-schedule"
        t.start()
    }

    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        wakeup.signal()
        stopped.wait()
    }

    /// Delivers everything due at `now`; returns the earliest known future due time (or now + poll).
    @discardableResult
    func runOnce(now: Int64) -> Int64 {
        var next = now + Self.pollMillis
        for q in 0..<Int32(context.config.messageDelayLevelMillis.count) {
            if let due = deliverLevel(q, now: now) { next = min(next, due) }
        }
        if let due = deliverTimers(now: now) { next = min(next, due) }
        return next
    }

    // MARK: Levels

    /// Returns the due time of the first entry not yet due, if any.
    private func deliverLevel(_ queueId: Int32, now: Int64) -> Int64? {
        let store = context.store
        let queue = QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: queueId)
        guard let range = try? store.queueRange(queue) else { return nil }
        var cursor = cursors.withLock { $0[queueId] } ?? max(range.min, (try? store.index.consumerOffset(
            group: DelayedDelivery.progressGroup, queue: queue)) ?? range.min)
        defer { cursors.withLock { $0[queueId] = cursor } }
        while cursor < range.max, running.load(ordering: .relaxed) {
            guard let entries = try? store.index.entries(queue, from: cursor, maxCount: Self.batch), !entries.isEmpty else { return nil }
            for e in entries {
                if e.tagCode > now { return e.tagCode }
                guard deliver(physicalOffset: e.physicalOffset, mark: .schedule(queueId: queueId, queueOffset: e.queueOffset)) != nil
                else { return now + Self.pollMillis }  // store refused: retry on the next round
                cursor = e.queueOffset + 1
            }
        }
        return nil
    }

    // MARK: Timers

    private func deliverTimers(now: Int64) -> Int64? {
        let store = context.store
        let dispatched = store.dispatchedOffset
        inFlight.withLock { f in f = f.filter { $0.value > dispatched } }
        while running.load(ordering: .relaxed) {
            guard let due = try? store.index.timers(dueBy: now, limit: Self.batch) else { return nil }
            let pending = inFlight.withLock { $0 }
            var delivered = 0
            for t in due where pending[t] == nil {
                guard let end = deliver(physicalOffset: t.physicalOffset, mark: .timer(t)) else { return now + Self.pollMillis }
                inFlight.withLock { $0[t] = end }
                delivered += 1
            }
            if delivered == 0 || due.count < Self.batch { break }
        }
        guard let first = try? store.index.firstTimer() else { return nil }
        return first.due > now ? first.due : nil
    }

    // MARK: Re-append

    /// Appends the real message for the parked record at `physicalOffset`; returns the end offset of the new
    /// record, or nil when the store refused (closed, full). A record that cannot be delivered (gone, no
    /// REAL_TOPIC) is logged and skipped: it returns Int64.max so the walk moves on and
    /// the timer is never retried in this process.
    private func deliver(physicalOffset: Int64, mark: DeliveryMark) -> Int64? {
        guard let stored = context.store.message(at: physicalOffset) else {
            context.logger.warning("delayed message vanished (retention?)", metadata: ["offset": "\(physicalOffset)"])
            return .max
        }
        let r = stored.record
        var props = PropertyList(r.properties)
        guard let topic = props[MessageProperties.realTopic], !topic.isEmpty else {
            context.logger.warning("delayed message without REAL_TOPIC skipped", metadata: ["offset": "\(physicalOffset)"])
            return .max
        }
        let queueId = props[MessageProperties.realQueueId].flatMap { Int32($0) } ?? 0
        for name in [MessageProperties.delay, DelayedDelivery.timerOutProperty, DeliveryRouting.timerDeliverMs,
                     DeliveryRouting.timerDelaySec, DeliveryRouting.timerDelayMs] {
            props[name] = nil
        }
        props[MessageProperties.wait] = "false"
        props[DelayedDelivery.deliveredProperty] = mark.propertyValue
        let draft = MessageDraft(topic: Array(topic.utf8), queueId: queueId, flag: r.flag, sysFlag: r.sysFlag,
                                 bornTimestamp: r.bornTimestamp, bornHost: r.bornHost, storeHost: r.storeHost,
                                 reconsumeTimes: r.reconsumeTimes, preparedTransactionOffset: r.preparedTransactionOffset,
                                 body: Array(r.body), properties: props.encoded)
        do {
            return try context.store.append(draft).endOffset
        } catch {
            context.logger.warning("delayed delivery append failed", metadata: ["topic": "\(topic)", "error": "\(error)"])
            return nil
        }
    }
}
