import Logging
import NIOCore
import Synchronization
import TernMessage
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// Transactional messages (features.md §2): half messages, END_TRANSACTION outcomes and the check-back scan.
///
/// State lives in the log (see `TransactionRecords`): the half record, then op records for each check and the
/// outcome; the dispatcher derives the LMDB `txn` table from them, so a restart (even `kill -9`) rebuilds it.
///
/// Invariant: an outcome or check is appended only while holding `pending`, after checking that the half is
/// still open both in the index and in `pending` (outcomes appended but not yet dispatched), so two
/// END_TRANSACTIONs (or one racing a discard) never both land.
final class TransactionService: Sendable {
    let context: BrokerContext
    /// Half offset → end of the op record that closed it, until the dispatcher has indexed that record.
    private let pending = Mutex<[Int64: Int64]>([:])
    /// The scan's cursor: the first half-queue offset that may still be open (in memory, rebuilt by one scan).
    private let openHalves: InternalConsumer
    /// Log offset the index must reach before the next scan (its check records), 0 when not waiting.
    private let awaitedDispatch = Atomic<Int64>(0)

    static let halfQueue = QueueKey(topic: TransactionRecords.halfTopic, queueId: 0)
    static let immunityProperty = "CHECK_IMMUNITY_TIME_IN_SECONDS"

    init(context: BrokerContext) {
        self.context = context
        openHalves = InternalConsumer(group: "TERN_SYS_TRANSACTION_SCAN", store: context.store, commitsProgress: false)
    }

    private var store: MessageStore { context.store }

    // MARK: Half messages

    /// Rewrites a transactional send into its half message (topic RMQ_SYS_TRANS_HALF_TOPIC queue 0,
    /// REAL_TOPIC / REAL_QID added, transaction bits NOT).
    static func divertToHalf(_ draft: inout MessageDraft, properties: inout PropertyList) {
        properties[MessageProperties.realTopic] = nil
        properties[MessageProperties.realQueueId] = nil
        properties[MessageProperties.realTopic] = String(decoding: draft.topic, as: UTF8.self)
        properties[MessageProperties.realQueueId] = String(draft.queueId)
        draft.topic = Array(TransactionRecords.halfTopic.utf8)
        draft.queueId = 0
        draft.sysFlag &= ~SysFlag.transactionMask
        draft.properties = properties.encoded
    }

    // MARK: END_TRANSACTION

    enum Outcome { case commit, rollback }

    /// Applies `outcome` to the half message at `halfOffset` after Java's checks (group, queue offset,
    /// physical offset). Returns the end offset of the last record appended, or the error remark.
    func end(halfOffset: Int64, queueOffset: Int64, producerGroup: String, outcome: Outcome) -> Result<Int64, EndError> {
        pending.withLock { pending in
            prune(&pending)
            guard let stored = store.message(at: halfOffset) else {
                return .failure(EndError("Find prepared transaction message failed: no message at commit log offset \(halfOffset)"))
            }
            let r = stored.record
            guard r.topicString == TransactionRecords.halfTopic, r.physicalOffset == halfOffset else {
                return .failure(EndError("The commit log offset \(halfOffset) is not a half message"))
            }
            if let why = closedReason(halfOffset, pending) { return .failure(EndError(why)) }
            let group = PropertyList(r.properties)[MessageProperties.producerGroup] ?? ""
            guard group == producerGroup else {
                return .failure(EndError("The producer group wrong: half message has \(group), request has \(producerGroup)"))
            }
            guard r.queueOffset == queueOffset else {
                return .failure(EndError("The transaction state table offset wrong: \(queueOffset), half message is at \(r.queueOffset)"))
            }
            do {
                if outcome == .commit {
                    _ = try store.append(Self.committedMessage(r, halfOffset: halfOffset))
                }
                let end = try appendOp(r, halfOffset: halfOffset, outcome: outcome == .commit ? .commit : .rollback)
                pending[halfOffset] = end
                return .success(end)
            } catch {
                return .failure(EndError("store failed: \(error)"))
            }
        }
    }

    struct EndError: Error {
        let remark: String
        init(_ remark: String) { self.remark = remark }
    }

    /// Why the half at `offset` takes no more outcomes, or nil while it is open. Outcomes not yet indexed are
    /// in `pending`, so an index lagging behind the log never lets a second outcome through.
    private func closedReason(_ offset: Int64, _ pending: [Int64: Int64]) -> String? {
        if pending[offset] != nil { return "the transaction of the half message at \(offset) has already ended" }
        let state = (try? store.transactionState(offset)) ?? nil
        switch state {
        case .half: return nil
        // Not indexed yet (END_TRANSACTION right after the send): the caller checked it is a half record.
        case nil where offset >= store.dispatchedOffset: return nil
        case nil: return "no transaction state for the half message at \(offset)"
        case let s?: return "the transaction of the half message at \(offset) has already ended (\(s))"
        }
    }

    private func prune(_ pending: inout [Int64: Int64]) {
        guard !pending.isEmpty else { return }
        let dispatched = store.dispatchedOffset
        pending = pending.filter { $0.value > dispatched }
    }

    /// The real message of a committed half: REAL_TOPIC / REAL_QID restored, TRAN_MSG removed, transaction
    /// type COMMIT, PREPARED TRANSACTION OFFSET = the half (how its dispatch marks the half committed).
    static func committedMessage(_ r: RecordView, halfOffset: Int64) -> MessageDraft {
        var props = PropertyList(r.properties)
        let topic = props[MessageProperties.realTopic] ?? ""
        let queueId = props[MessageProperties.realQueueId].flatMap { Int32($0) } ?? 0
        for name in [MessageProperties.realTopic, MessageProperties.realQueueId, MessageProperties.transactionPrepared,
                     TransactionRecords.checkTimesProperty] {
            props[name] = nil
        }
        var d = copy(r, topic: topic, queueId: queueId, properties: props)
        d.sysFlag = (r.sysFlag & ~SysFlag.transactionMask) | SysFlag.transactionCommit
        d.preparedTransactionOffset = halfOffset
        return d
    }

    /// A new draft with `r`'s body, flags, born and store hosts.
    static func copy(_ r: RecordView, topic: String, queueId: Int32, properties: PropertyList) -> MessageDraft {
        MessageDraft(topic: Array(topic.utf8), queueId: queueId, flag: r.flag, sysFlag: r.sysFlag,
                     bornTimestamp: r.bornTimestamp, bornHost: r.bornHost, storeHost: r.storeHost,
                     reconsumeTimes: r.reconsumeTimes, body: Array(r.body), properties: properties.encoded)
    }

    /// Appends the op record for `outcome` (body = half queue offset, tag `d`, as Java's op messages).
    private func appendOp(_ half: RecordView, halfOffset: Int64, outcome: TransactionRecords.Outcome,
                          checks: Int32 = 0) throws -> Int64 {
        var props: [(String, String)] = [(MessageProperties.tags, outcome == .check ? "c" : "d"),
                                         (TransactionRecords.outcomeProperty, outcome.rawValue)]
        if outcome == .check { props.append((TransactionRecords.checkTimesProperty, String(checks))) }
        let op = MessageDraft(topic: Array(TransactionRecords.opTopic.utf8), queueId: 0,
                              bornTimestamp: context.clock.wallMillis(), bornHost: context.storeHost, storeHost: context.storeHost,
                              preparedTransactionOffset: halfOffset, body: Array(String(half.queueOffset).utf8),
                              properties: MessageProperties.encode(props))
        return try store.append(op).endOffset
    }

    // MARK: Check-back

    /// The check-back scan as a service: every `transactionCheckInterval` of the context's clock, once the
    /// previous pass's check records are indexed (woken by the dispatch event that indexes them, no polling).
    func service(events: LifecycleEvents?) -> TimerService {
        let period = max(10, context.config.transactionCheckInterval)
        let nextScan = Mutex<Int64?>(nil)
        let service = TimerService(name: "transaction-check", clock: context.clock, events: events, step: { [self] now in
            let due = nextScan.withLock { n in
                let due = n ?? now + period
                n = due
                return due
            }
            if now < due { return due }
            let awaited = store.maxPhysicalOffset
            if store.dispatchedOffset < awaited {
                awaitedDispatch.store(awaited, ordering: .releasing)
                if store.dispatchedOffset < awaited { return nil }
            }
            awaitedDispatch.store(0, ordering: .releasing)
            do { try scan(now: now) } catch {
                context.logger.warning("transaction check scan failed", metadata: ["error": "\(error)"])
            }
            nextScan.withLock { $0 = now + period }
            return now + period
        }, onStop: { [openHalves] in openHalves.stopWatching() })
        openHalves.watch(name: "transaction-check", interest: { [self] event in
            let awaited = awaitedDispatch.load(ordering: .acquiring)
            return awaited > 0 && event.dispatchedOffset >= awaited
        }, wake: { [weak service] in service?.wake() })
        return service
    }

    /// One pass over the open half messages stored before it started, in queue order: discard those checked
    /// `transactionCheckMax` times, check those older than their immunity time. The caller makes sure the
    /// previous pass's check records are indexed (their counts are read again).
    func scan(now: Int64) throws {
        guard let (start, range) = try openHalves.position(Self.halfQueue) else { return }
        var offset = start
        var advancing = true
        while offset < range.max {
            let entries = try store.entries(Self.halfQueue, from: offset, maxCount: min(256, Int(range.max - offset)))
            guard let last = entries.last else { break }
            for e in entries {
                let open = visit(e.physicalOffset, now: now)
                if advancing && !open { try openHalves.advance(Self.halfQueue, to: e.queueOffset + 1) } else { advancing = false }
            }
            offset = last.queueOffset + 1
        }
    }

    /// Checks or discards one half message; returns whether it is still open.
    private func visit(_ halfOffset: Int64, now: Int64) -> Bool {
        let check: (RemotingCommand, String)? = pending.withLock { pending in
            prune(&pending)
            guard closedReason(halfOffset, pending) == nil, let stored = store.message(at: halfOffset) else { return nil }
            let r = stored.record
            let props = PropertyList(r.properties)
            let checks = (try? store.transactionChecks(halfOffset)) ?? 0
            do {
                if checks >= context.config.transactionCheckMax {
                    pending[halfOffset] = try discard(r, halfOffset: halfOffset, props: props, checks: checks)
                    return nil
                }
                let immunity = props[Self.immunityProperty].flatMap { Int64($0) }.map { $0 * 1000 }
                    ?? context.config.transactionTimeOut
                if now - r.bornTimestamp < immunity { return nil }
                _ = try appendOp(r, halfOffset: halfOffset, outcome: .check, checks: checks + 1)
            } catch {
                context.logger.warning("transaction check failed", metadata: ["offset": "\(halfOffset)", "error": "\(error)"])
                return nil
            }
            let group = props[MessageProperties.producerGroup] ?? ""
            return (checkRequest(r, halfOffset: halfOffset, props: props), group)
        }
        guard let (request, group) = check else {
            return pending.withLock { closedReason(halfOffset, $0) == nil }
        }
        if let connection = context.clients.producerConnections(group: group).randomElement() {
            connection.sendOneway(request)
        } else {
            context.logger.info("no live producer of the group for a transaction check", metadata: [
                "group": "\(group)", "offset": "\(halfOffset)"])
        }
        return true
    }

    /// Moves an unresolved half message to TRANS_CHECK_MAX_TIME_TOPIC and closes it.
    private func discard(_ r: RecordView, halfOffset: Int64, props: PropertyList, checks: Int32) throws -> Int64 {
        _ = try? context.topics.createIfAbsent(TransactionRecords.discardTopic, queueNums: 1)
        var kept = props
        kept[TransactionRecords.checkTimesProperty] = nil
        kept[TransactionRecords.checkTimesProperty] = String(checks)
        _ = try store.append(Self.copy(r, topic: TransactionRecords.discardTopic, queueId: 0, properties: kept))
        let end = try appendOp(r, halfOffset: halfOffset, outcome: .discard)
        let uniq = props[MessageProperties.uniqueKey] ?? ""
        context.logger.warning("transaction half message discarded after the maximum number of checks", metadata: [
            "offset": "\(halfOffset)", "uniqKey": "\(uniq)", "checks": "\(checks)",
            "group": "\(props[MessageProperties.producerGroup] ?? "")"])
        return end
    }

    /// CHECK_TRANSACTION_STATE (39, one-way): header per remoting.md §5.1; body = the half record with its real
    /// topic and queue (C++ routes the check by the PGROUP property in it).
    private func checkRequest(_ r: RecordView, halfOffset: Int64, props: PropertyList) -> RemotingCommand {
        let topic = props[MessageProperties.realTopic] ?? TransactionRecords.halfTopic
        let queueId = props[MessageProperties.realQueueId].flatMap { Int32($0) } ?? 0
        let uniq = props[MessageProperties.uniqueKey] ?? ""
        let body = Self.copy(r, topic: topic, queueId: queueId, properties: props)
            .encoded(queueOffset: r.queueOffset, physicalOffset: halfOffset, storeTimestamp: r.storeTimestamp)
        var fields = RemotingExtFields()
        fields.set("tranStateTableOffset", r.queueOffset)
        fields.set("commitLogOffset", halfOffset)
        fields["msgId"] = uniq
        fields["transactionId"] = uniq
        fields["offsetMsgId"] = MessageId.offsetId(storeHost: context.storeHost, physicalOffset: halfOffset)
        return RemotingCommand(code: RequestCode.checkTransactionState, extFields: fields, body: ByteBuffer(bytes: body))
    }
}
