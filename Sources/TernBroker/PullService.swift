import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

/// PULL_MESSAGE (11): validation, tag filtering, the commit-offset piggy-back, the store read and the status
/// mapping of features.md §7; long polling lives in PullLongPolling.swift.
///
/// Runs on the connection's event loop: a pull is one index read plus one copy of each mapped record taken.
final class PullService: Sendable {
    /// Most messages / bytes one answer carries (Java's in-memory transfer limits are 32 / 256 KiB; larger
    /// batches only help clients that ask for them).
    static let maxMessagesPerPull = 1024
    static let maxBytesPerPull = 1 << 20

    let context: BrokerContext
    let clients: ClientRegistry
    let offsets: OffsetService
    /// Suspended pulls (long polling), see PullLongPolling.swift.
    let holds = NIOLockedValueBox(HoldTable())
    /// Compiled SQL92 subscriptions (Filter/PullFilter.swift).
    let sqlFilters = SQL92FilterCache()
    /// Wakes suspended pulls when their queue advances.
    private let arrivals = NIOLockedValueBox<DispatchSubscription?>(nil)

    func stopWatchingArrivals() { arrivals.withLockedValue { $0?.cancel(); $0 = nil } }

    init(context: BrokerContext, clients: ClientRegistry, offsets: OffsetService) {
        self.context = context
        self.clients = clients
        self.offsets = offsets
        let sub = context.store.subscribe(name: "long-polling") { [weak self] event in self?.messagesArrived(event.queues) }
        arrivals.withLockedValue { $0 = sub }
    }

    /// Serves `request`: nil when `waiter` gets the outcome (now, or after long polling on its event loop), else
    /// why the request is refused (nothing delivered).
    func pull(_ request: PullRequest, waiter: any PullWaiter) -> RequestRejection? {
        if context.config.brokerRole == .slave, !context.config.slaveReadEnable {
            // RocketMQ's PullMessageProcessor: a slave that may not be read answers PULL_RETRY_IMMEDIATELY and
            // suggests the master (suggestWhichBrokerId 0). The offsets point back at the request, so a client
            // never steps over messages it was not given.
            var a = PullOutcome(code: ResponseCode.pullRetryImmediately,
                                remark: "slaveReadEnable=false: this slave serves no pulls, pull from the master", status: nil)
            a.setOffsets(next: request.header.queueOffset, min: 0, max: 0)
            waiter.deliver(a)
            return nil
        }
        let pending: PendingPull
        switch prepare(request, waiter: waiter) {
        case .failure(let r): return r
        case .success(let p): pending = p
        }
        let header = pending.header
        if header.hasCommitOffset, header.commitOffset >= 0 {
            offsets.commit(group: header.consumerGroup, queue: pending.queue, offset: header.commitOffset)
        }
        var outcome = read(pending, offset: header.queueOffset)
        let timeout = min(header.suspendTimeoutMillis, context.config.longPollingMaxMillis)
        if outcome.code == ResponseCode.pullNotFound, header.hasSuspend, context.config.longPollingEnable, timeout > 0 {
            suspend(pending, timeoutMillis: timeout)
            return nil
        }
        outcome.trace = pending.trace
        waiter.deliver(outcome)
        return nil
    }

    /// Validates the request (features.md §7 "other pull errors") and resolves its tag filter.
    private func prepare(_ request: PullRequest, waiter: any PullWaiter) -> Result<PendingPull, RequestRejection> {
        let header = request.header
        let broadcasting = clients.consumerGroup(header.consumerGroup)?.messageModel == .broadcasting
        if let refusal = context.groups.pullRefusal(group: header.consumerGroup, broadcasting: broadcasting) {
            return .failure(refusal)
        }
        guard let topic = context.topics.config(header.topic) else {
            return .failure(RequestRejection(ResponseCode.topicNotExist,
                                             "topic[\(header.topic)] not exist, apply first please!"))
        }
        guard Perm.isReadable(topic.perm) else {
            return .failure(RequestRejection(ResponseCode.noPermission,
                                             "the topic[\(header.topic)] pulling message is forbidden"))
        }
        guard header.queueId >= 0, header.queueId < topic.readQueueNums else {
            return .failure(RequestRejection(ResponseCode.systemError,
                "queueId[\(header.queueId)] is illegal, topic:[\(header.topic)] topicConfig.readQueueNums:[\(topic.readQueueNums)] consumer:[\(request.consumerAddress)]"))
        }
        let expression: String?, expressionType: String?, subVersion: Int64
        if header.hasSubscription {
            (expression, expressionType, subVersion) = (header.subscription, header.expressionType, header.subVersion)
        } else {
            guard let sub = clients.subscription(group: header.consumerGroup, topic: header.topic) else {
                return .failure(RequestRejection(ResponseCode.subscriptionNotExist, "the consumer's subscription not exist"))
            }
            if sub.subVersion < header.subVersion {
                return .failure(RequestRejection(ResponseCode.subscriptionNotLatest, "the consumer's subscription not latest"))
            }
            (expression, expressionType, subVersion) = (sub.subString, sub.expressionType, sub.subVersion)
        }
        return makeFilter(group: header.consumerGroup, topic: header.topic, expressionType: expressionType,
                          expression: expression, subVersion: subVersion).map { filter in
            PendingPull(id: 0, header: header, queue: QueueKey(topic: header.topic, queueId: header.queueId),
                        filter: filter, waiter: waiter, offset: header.queueOffset, deadline: .now(), trace: PullTrace.start())
        }
    }

    /// Reads `pending`'s queue from `offset` and builds the answer: each record taken is copied once, straight
    /// from the mapped log into the answer's body, which the connection writes after the header (one `writev`).
    ///
    /// Why a copy and not `FileRegion` (sendfile from the segment): producers spread a topic's messages over its
    /// queues round-robin, so a queue's records are almost never adjacent in the log and a region per record
    /// would cost a syscall each; the copy of a 1 KiB record is ~0.06 µs of the ~2 µs a drained message cost.
    func read(_ pending: PendingPull, offset: Int64) -> PullOutcome {
        let maxCount = max(1, min(pending.header.maxMsgNums, Self.maxMessagesPerPull))
        let result: GetMessageResult
        var body: ByteBuffer? = nil
        do {
            result = try context.store.readMessages(pending.queue, from: offset, maxCount: maxCount,
                                                    maxBytes: Self.maxBytesPerPull, filter: pending.filter.tag.predicate,
                                                    recordFilter: pending.filter.recordPredicate) { m, atMost in
                if body == nil {
                    // The first record's size times the records the queue still holds (at most the count asked):
                    // one allocation for equal-sized messages, and a consumer at the tail, woken for a few
                    // records, gets a buffer for those few, not for the batch it asked (a 64-record buffer per
                    // wake-up was the event loop's largest allocation, returned to the kernel and faulted back).
                    body = ByteBufferAllocator().buffer(capacity: min(m.size * atMost, Self.maxBytesPerPull + m.size))
                }
                body!.writeBytes(m.bytes)
            }
        } catch {
            context.logger.warning("pull read failed", metadata: ["queue": "\(pending.queue)", "error": "\(error)"])
            var a = PullOutcome(code: ResponseCode.systemError, remark: "read failed: \(error)", status: nil)
            a.setOffsets(next: offset, min: 0, max: 0)
            return a
        }
        context.flow.consumed(group: pending.header.consumerGroup, topic: pending.queue.topic, count: result.count)
        context.metering?.pulled(group: pending.header.consumerGroup, queue: pending.queue, count: result.count,
                                 bytes: result.totalBytes, next: result.nextBeginOffset)
        var a = PullOutcome(code: Self.responseCode(result.status, requestOffset: offset), remark: result.status.rawValue,
                           status: result.status)
        a.setOffsets(next: result.nextBeginOffset, min: result.minOffset, max: result.maxOffset)
        if result.count > 0 {
            a.suggestWhichBrokerId = suggestedBroker(group: pending.header.consumerGroup, pulledEnd: result.endOffset)
        }
        a.body = body
        return a
    }

    /// RocketMQ's slow-consumer rule (`DefaultMessageStore.getMessage` + `PullMessageProcessor`): with
    /// `slaveReadEnable`, a consumer whose last pulled record ends more than `accessMessageInMemoryMaxRatio` % of
    /// RAM before the log's end is pointed at its group's `whichBrokerWhenConsumeSlowly`; otherwise the master (0).
    func suggestedBroker(group: String, pulledEnd: Int64) -> Int64 {
        // Fields read in place: a copy of the whole config (its Strings retained and released) per pull cost more.
        guard context.config.slaveReadEnable, context.config.brokerRole != .slave else { return 0 }
        let memory = Double(BrokerConfig.physicalMemory) * Double(context.config.accessMessageInMemoryMaxRatio) / 100
        guard Double(context.store.maxPhysicalOffset - pulledEnd) > memory else { return 0 }
        return context.groups.find(group)?.whichBrokerWhenConsumeSlowly ?? 1
    }

    /// Store status → response code (features.md §7).
    static func responseCode(_ status: GetMessageResult.Status, requestOffset: Int64) -> Int {
        switch status {
        case .found: ResponseCode.success
        case .noMatchedMessage: ResponseCode.pullRetryImmediately
        case .noMessageInQueue, .noMatchedLogicQueue: requestOffset == 0 ? ResponseCode.pullNotFound : ResponseCode.pullOffsetMoved
        case .offsetOverflowOne, .offsetFoundNull: ResponseCode.pullNotFound
        case .offsetTooSmall, .offsetOverflowBadly: ResponseCode.pullOffsetMoved
        }
    }
}

/// A pull being answered or suspended. `offset` is where the next read starts: the request's offset, advanced
/// past messages the filter rejected while suspended.
struct PendingPull: Sendable {
    var id: Int
    let header: PullRequestHeader
    let queue: QueueKey
    let filter: PullFilter
    let waiter: any PullWaiter
    var offset: Int64
    var deadline: NIODeadline
    /// Stage stamps (nil unless tracing: PullTrace.swift).
    var trace: PullTrace?
}

/// A pull, whatever transport carried it.
struct PullRequest: Sendable {
    var header: PullRequestHeader
    /// The consumer's `ip:port` (error remarks).
    var consumerAddress: String
}

/// Where a pull's outcome goes, at once or after long polling: the transport's way back to the consumer.
protocol PullWaiter: Sendable {
    /// The loop a suspended pull's timer and wake-ups run on.
    var eventLoop: any EventLoop { get }
    /// The `ClientChannel.id` of the channel the pull came on (a closed channel drops its suspended pulls).
    var channelId: Int { get }
    /// Answers the pull; called exactly once per delivered pull.
    func deliver(_ outcome: PullOutcome)
    /// On `eventLoop`: answers delivered until the task running now ends may leave together (one write for
    /// the pulls a dispatch batch woke); a transport that cannot hold them does nothing.
    func holdAnswersUntilTaskEnds()
}

extension PullWaiter {
    func holdAnswersUntilTaskEnds() {}
}

/// What a pull answers (features.md §7): code, remark, the store's status, the next / min / max queue offsets
/// and the records found (one buffer of encoded records).
struct PullOutcome: Sendable {
    var code: Int
    var remark: String
    var status: GetMessageResult.Status?
    var body: ByteBuffer? = nil
    var nextBeginOffset: Int64 = 0
    var minOffset: Int64 = 0
    var maxOffset: Int64 = 0
    /// 0: the master; a slave's id when this consumer lags (``PullService/suggestedBroker(group:pulledEnd:)``).
    var suggestWhichBrokerId: Int64 = 0
    /// The pull's stage stamps, answered as extra fields (nil unless tracing).
    var trace: PullTrace? = nil

    init(code: Int, remark: String, status: GetMessageResult.Status?) {
        self.code = code
        self.remark = remark
        self.status = status
    }

    mutating func setOffsets(next: Int64, min: Int64, max: Int64) {
        (nextBeginOffset, minOffset, maxOffset) = (next, min, max)
    }
}
