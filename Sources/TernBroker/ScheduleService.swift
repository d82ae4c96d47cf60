import Logging
import Synchronization
import TernMessage
import TernStorage
import TernSystem

/// Moves parked messages (delay levels and timers, see `DeliveryRouting`) to their real topic when due.
///
/// Reads every level queue of `SCHEDULE_TOPIC_XXXX` from its progress (an `InternalConsumer` of
/// `DelayedDelivery.progressGroup`) and the timer table from its earliest entry; a due record is re-appended
/// to REAL_TOPIC / REAL_QID with DELAY and the timer properties removed (body, flag, sysflag, born time / host,
/// store host, reconsume times kept; new store time) and a `TERN_DELIVERED` mark naming its source.
/// Dispatching that record advances the level's progress or removes the timer entry in the same index
/// transaction (DelayedDelivery.swift), so there is no separate progress write to lose or to repeat: after
/// `kill -9` the service resumes exactly after the last delivered record. Due times within a level are
/// non-decreasing (store order), so a level stops at its first future entry.
///
/// Runs as a `TimerService`: it sleeps until the earliest known due time of the context's clock, or until a
/// dispatch event touches a schedule queue (a new parked message) or passes a delivered timer copy. It never
/// delivers before the due time and does not poll.
final class ScheduleService: Sendable {
    static let batch = 256
    /// Wait before retrying after the store refused an append (closed, full).
    static let retryMillis: Int64 = 1_000

    private let context: BrokerContext
    private let levels: InternalConsumer
    /// Timers delivered whose delivered copy is not dispatched yet (their entry is still in the table), with
    /// the end offset of that copy.
    private let inFlight = Mutex<[TimerEntry: Int64]>([:])

    init(context: BrokerContext) {
        self.context = context
        levels = InternalConsumer(group: DelayedDelivery.progressGroup, store: context.store, commitsProgress: false)
        do {
            try context.topics.createIfAbsent(DelayedDelivery.scheduleTopic, queueNums: context.config.messageDelayLevelMillis.count)
            try context.topics.createIfAbsent(DelayedDelivery.timerTopic, queueNums: 1)
        } catch {
            context.logger.warning("cannot create the schedule topics", metadata: ["error": "\(error)"])
        }
    }

    /// The service that runs this schedule (started after recovery by the broker's service group).
    func service(events: LifecycleEvents?) -> TimerService {
        let service = TimerService(name: "schedule", clock: context.clock, events: events, step: { [self] now in
            runOnce(now: now)
        }, onStop: { [self] in
            levels.stopWatching()
        })
        levels.watch(name: "schedule", interest: { [self] event in
            event.queues.keys.contains { $0.topic == DelayedDelivery.scheduleTopic || $0.topic == DelayedDelivery.timerTopic }
                || inFlight.withLock { f in f.values.contains { $0 <= event.dispatchedOffset } }
        }, wake: { [weak service] in service?.wake() })
        return service
    }

    /// Delivers everything due at `now`; returns the earliest known future due time (nil: none known).
    @discardableResult
    func runOnce(now: Int64) -> Int64? {
        var next: Int64?
        func consider(_ due: Int64?) { if let due { next = min(next ?? due, due) } }
        for q in 0..<Int32(context.config.messageDelayLevelMillis.count) {
            consider(deliverLevel(q, now: now))
        }
        consider(deliverTimers(now: now))
        return next
    }

    // MARK: Levels

    /// Returns the due time of the first entry not yet due, if any. Due records go to the store in batches
    /// (one append lock per batch).
    private func deliverLevel(_ queueId: Int32, now: Int64) -> Int64? {
        let queue = QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: queueId)
        while true {
            guard let entries = try? levels.entries(queue, maxCount: Self.batch), !entries.isEmpty else { return nil }
            let due = entries.prefix { $0.tagCode <= now }
            let drafts = due.compactMap { makeDraft(physicalOffset: $0.physicalOffset, mark: .schedule(queueId: queueId, queueOffset: $0.queueOffset)) }
            guard append(drafts) != nil else { return now + Self.retryMillis }
            if let last = due.last { try? levels.advance(queue, to: last.queueOffset + 1) }
            if due.count < entries.count { return entries[due.count].tagCode }
        }
    }

    // MARK: Timers

    private func deliverTimers(now: Int64) -> Int64? {
        let store = context.store
        let dispatched = store.dispatchedOffset
        inFlight.withLock { f in f = f.filter { $0.value > dispatched } }
        while true {
            guard let due = try? store.timers(dueBy: now, limit: Self.batch) else { return nil }
            let pending = inFlight.withLock { $0 }
            let fresh = due.filter { pending[$0] == nil }
            var delivered: [(TimerEntry, MessageDraft?)] = fresh.map { ($0, makeDraft(physicalOffset: $0.physicalOffset, mark: .timer($0))) }
            guard let results = append(delivered.compactMap(\.1)) else { return now + Self.retryMillis }
            // Until the delivered copy is dispatched its entry stays in the table: remember it (skipped ones forever).
            var ends = results.map(\.endOffset).makeIterator()
            inFlight.withLock { f in for (t, d) in delivered { f[t] = d == nil ? .max : ends.next() ?? .max } }
            delivered.removeAll()
            if fresh.isEmpty || due.count < Self.batch { break }
        }
        // Due entries left in the table are in flight (their copy's dispatch wakes the service) or skipped for
        // good: the next due time is the first entry past them.
        let inFlightCount = inFlight.withLock { $0.count }
        guard let upcoming = try? store.timers(dueBy: .max, limit: inFlightCount + 1) else { return nil }
        return upcoming.first { $0.due > now }?.due
    }

    // MARK: Re-append

    /// The real message for the parked record at `physicalOffset`, or nil when it cannot be delivered (gone,
    /// no REAL_TOPIC): logged and skipped.
    private func makeDraft(physicalOffset: Int64, mark: DeliveryMark) -> MessageDraft? {
        guard let stored = context.store.message(at: physicalOffset) else {
            context.logger.warning("delayed message vanished (retention?)", metadata: ["offset": "\(physicalOffset)"])
            return nil
        }
        let r = stored.record
        // Byte-level rewrite (hot path of a delayed backlog): drop the delay / timer / WAIT / mark entries, keep
        // the rest in order, then add WAIT=false and the delivery mark.
        var topic: [UInt8] = [], queueId: Int32 = 0
        var props: [UInt8] = []
        props.reserveCapacity(r.properties.count + 40)
        MessageProperties.forEachEntry(in: r.properties) { name, value in
            if name.elementsEqual(Self.realTopicName) { topic = Array(value) }
            if name.elementsEqual(Self.realQueueIdName) { queueId = Int32(String(decoding: value, as: UTF8.self)) ?? 0 }
            if !Self.dropped.contains(where: { name.elementsEqual($0) }) {
                props.append(contentsOf: name); props.append(MessageProperties.nameSeparator)
                props.append(contentsOf: value); props.append(MessageProperties.entrySeparator)
            }
            return true
        }
        guard !topic.isEmpty else {
            context.logger.warning("delayed message without REAL_TOPIC skipped", metadata: ["offset": "\(physicalOffset)"])
            return nil
        }
        props += MessageProperties.encode([(MessageProperties.wait, "false"), (DelayedDelivery.deliveredProperty, mark.propertyValue)])
        return MessageDraft(topic: topic, queueId: queueId, flag: r.flag, sysFlag: r.sysFlag,
                            bornTimestamp: r.bornTimestamp, bornHost: r.bornHost, storeHost: r.storeHost,
                            reconsumeTimes: r.reconsumeTimes, preparedTransactionOffset: r.preparedTransactionOffset,
                            body: Array(r.body), properties: props)
    }

    private static let realTopicName = Array(MessageProperties.realTopic.utf8)
    private static let realQueueIdName = Array(MessageProperties.realQueueId.utf8)
    private static let dropped: [[UInt8]] = [
        MessageProperties.delay, DelayedDelivery.timerOutProperty, DeliveryRouting.timerDeliverMs, DeliveryRouting.timerDelaySec,
        DeliveryRouting.timerDelayMs, MessageProperties.wait, DelayedDelivery.deliveredProperty,
    ].map { Array($0.utf8) }

    /// Appends `drafts` in order; nil when the store refused (closed, full), so nothing advances.
    private func append(_ drafts: [MessageDraft]) -> [AppendResult]? {
        guard !drafts.isEmpty else { return [] }
        do {
            return try context.store.append(batch: drafts)
        } catch {
            context.logger.warning("delayed delivery append failed", metadata: ["count": "\(drafts.count)", "error": "\(error)"])
            return nil
        }
    }
}
