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
    private let routing: DeliveryRouting
    /// Timers delivered whose delivered copy is not dispatched yet (their entry is still in the table), with
    /// the end offset of that copy.
    private let inFlight = Mutex<[TimerEntry: Int64]>([:])

    init(context: BrokerContext) {
        self.context = context
        levels = InternalConsumer(group: DelayedDelivery.progressGroup, store: context.store, commitsProgress: false)
        routing = DeliveryRouting(context: context)
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

    /// Returns the due time of the first entry not yet due, if any (or a retry time when the store refused for
    /// a passing reason). Due records go to the store in batches (one append lock per batch).
    private func deliverLevel(_ queueId: Int32, now: Int64) -> Int64? {
        let queue = QueueKey(topic: DelayedDelivery.scheduleTopic, queueId: queueId)
        while true {
            guard let entries = try? levels.entries(queue, maxCount: Self.batch), !entries.isEmpty else { return nil }
            let due = entries.prefix { $0.tagCode <= now }
            let parked = due.map { e in
                makeDraft(physicalOffset: e.physicalOffset, mark: .schedule(queueId: queueId, queueOffset: e.queueOffset))
                    .map { Parked(draft: $0, physicalOffset: e.physicalOffset) }
            }
            let settledDrafts = deliver(parked.compactMap { $0 }).count
            // Entries settled: everything up to the first draft the store did not take (skipped entries count).
            var settled = 0, used = 0
            for p in parked {
                if p != nil {
                    if used == settledDrafts { break }
                    used += 1
                }
                settled += 1
            }
            if settled > 0 { try? levels.advance(queue, to: due[due.startIndex + settled - 1].queueOffset + 1) }
            if settled < due.count { return now + Self.retryMillis }
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
            let delivered = fresh.map { t in
                (t, makeDraft(physicalOffset: t.physicalOffset, mark: .timer(t)).map { Parked(draft: $0, physicalOffset: t.physicalOffset) })
            }
            let ends = deliver(delivered.compactMap(\.1))
            // Until the delivered copy is dispatched its entry stays in the table: remember it (skipped ones forever).
            var next = ends.makeIterator()
            inFlight.withLock { f in
                for (t, p) in delivered {
                    if p == nil { f[t] = .max; continue }
                    guard let end = next.next() else { break }
                    f[t] = end ?? .max
                }
            }
            if ends.count < delivered.count(where: { $0.1 != nil }) { return now + Self.retryMillis }
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

    /// A due record rewritten for delivery, with the commit-log offset of its parked original.
    private struct Parked {
        var draft: MessageDraft
        let physicalOffset: Int64
    }

    /// Appends `parked` in order; returns, for each leading record settled, the end offset of the copy stored (in
    /// its real topic, or its group's dead-letter queue) or nil when it was dropped. Fewer results than records:
    /// the store refused for a passing reason (closed, write path stopped) and the rest waits for the next round.
    ///
    /// A record the store refuses for good (illegal: e.g. a real topic too long to write; too large) cannot be
    /// delivered by waiting, so it never blocks the records behind it: it goes to `%DLQ%<group>` when its real
    /// topic is `%RETRY%<group>` and that queue can be written, else it is dropped and logged once with its offset.
    private func deliver(_ parked: [Parked]) -> [Int64?] {
        guard !parked.isEmpty else { return [] }
        let store = context.store
        do {
            return try store.append(batch: parked.map(\.draft)).map(\.endOffset)
        } catch where !Self.isPermanent(error) {
            context.logger.warning("delayed delivery append failed", metadata: ["count": "\(parked.count)", "error": "\(error)"])
            return []
        } catch {
            // Some record of the batch can never be written: settle them one by one.
        }
        var ends: [Int64?] = []
        for p in parked {
            do {
                ends.append(try store.append(p.draft).endOffset)
            } catch where Self.isPermanent(error) {
                ends.append(deadLetter(p, reason: error))
            } catch {
                context.logger.warning("delayed delivery append failed", metadata: ["offset": "\(p.physicalOffset)", "error": "\(error)"])
                return ends
            }
        }
        return ends
    }

    /// Errors no retry can cure: the record itself is not storable.
    private static func isPermanent(_ error: StoreError) -> Bool {
        switch error {
        case .messageIllegal, .messageTooLarge: true
        default: false
        }
    }

    /// Stores undeliverable `p` in its group's dead-letter queue (keeping the delivery mark, so the level or timer
    /// still advances when it is dispatched); nil when that is impossible too and the record is dropped.
    private func deadLetter(_ p: Parked, reason: StoreError) -> Int64? {
        let retryPrefix = Array(DeliveryRouting.retryPrefix.utf8)
        var draft = p.draft
        if draft.topic.starts(with: retryPrefix) {
            let group = String(decoding: draft.topic.dropFirst(retryPrefix.count), as: UTF8.self)
            var props = PropertyList(draft.properties)
            do {
                try routing.toDeadLetters(&draft, &props, group: group)
                draft.properties = props.encoded
                let end = try context.store.append(draft).endOffset
                context.logger.warning("undeliverable delayed message moved to its dead-letter queue", metadata: [
                    "offset": "\(p.physicalOffset)", "topic": "\(DeliveryRouting.dlqPrefix + group)", "error": "\(reason)",
                ])
                return end
            } catch {
                // Falls through: the dead-letter queue cannot be written either.
            }
        }
        context.logger.error("undeliverable delayed message dropped", metadata: [
            "offset": "\(p.physicalOffset)", "topic": "\(String(decoding: p.draft.topic.prefix(160), as: UTF8.self))", "error": "\(reason)",
        ])
        return nil
    }
}
