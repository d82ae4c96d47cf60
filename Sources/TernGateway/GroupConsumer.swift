import Logging
import ServiceLifecycle
import TernClient
import TernProtocol

/// A message handed to a receiver, with the handle that acks or nacks this delivery.
struct Delivery: Sendable {
    var message: ReceivedMessage
    var handle: ReceiptHandle
}

/// One consumer group's receives over HTTP: the queues of each topic it reads, plus its retry queue
/// `%RETRY%<group>` (where nacked messages come back), each a ``QueueCursor``.
///
/// Pulls are RocketMQ pulls (PULL_MESSAGE with long polling) by the caller's ``PullConsumer``; at most one per
/// queue is in flight, and a queue holding `maxPendingPerQueue` unacknowledged messages is not pulled.
/// Pull results land in the cursors, and receivers waiting for messages are woken.
/// Actor reentrancy is expected: every state change after an `await` re-checks what it relies on.
actor GroupConsumer {
    enum Slot: Hashable, Sendable {
        case topic(String, Int)
        case retry
    }

    let group: String
    let config: GatewayConfig
    let logger: Logger
    private var topics: [String: [QueueCursor]] = [:]
    private var retry: QueueCursor
    private var deliveries: UInt64 = 0
    /// Rotates the first queue served so no queue starves when `max` is small.
    private var rotation = 0
    /// A topic queue's last pull failure, reported to the next receive that finds nothing.
    private var failures: [String: any Error] = [:]
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter: UInt64 = 0

    static let retryTopicPrefix = "%RETRY%"
    static let retryTopicProperty = "RETRY_TOPIC"
    static let pullBatch = 32
    static let failureBackoff = Duration.seconds(1)

    init(group: String, config: GatewayConfig, logger: Logger) {
        self.group = group
        self.config = config
        self.logger = logger
        retry = QueueCursor(queue: MessageQueue(topic: Self.retryTopicPrefix + group, brokerName: config.brokerName, queueId: 0))
    }

    // MARK: Receive

    /// Up to `max` messages of `topic` (its own queues and the group's retries of it), waiting up to `wait` for
    /// the first; each becomes invisible to other receives for `invisible`. Empty when none came in time.
    func receive(topic: String, max: Int, wait: Duration, invisible: Duration, consumer: PullConsumer) async throws -> [Delivery] {
        if topics[topic] == nil {
            let queues = try await consumer.queues(topic: topic)
            if topics[topic] == nil { topics[topic] = queues.map(QueueCursor.init) }
        }
        pinRetryRoute(consumer)
        let deadline = ContinuousClock.now + wait
        var first = true
        while true {
            let got = take(topic: topic, max: max, invisible: invisible)
            if !got.isEmpty { return got }
            if let failure = failures.removeValue(forKey: topic) { throw failure }
            let now = ContinuousClock.now
            // A process shutting down answers its waiting receivers at once instead of holding its HTTP server.
            if !first && (now >= deadline || Task.isShuttingDownGracefully) { return [] }
            first = false
            let remaining = Swift.max(.zero, deadline - now)
            let pulls = startPulls(topic: topic, suspend: remaining, consumer: consumer)
            if remaining == .zero {
                for p in pulls { await p.value }
            } else {
                await withGracefulShutdownHandler {
                    await signal(until: Swift.min(deadline, nextVisibility(topic: topic, after: now) ?? deadline))
                } onGracefulShutdown: {
                    Task { await self.wake() }
                }
            }
        }
    }

    /// The retry queue is on this process's broker; its route is pinned so it is found before the name servers
    /// know the topic (a first send-back creates it).
    private func pinRetryRoute(_ consumer: PullConsumer) {
        consumer.runtime.pinRoute(topic: retry.queue.topic, brokerAddress: config.brokerAddress,
                                  brokerName: config.brokerName, queues: 1)
    }

    /// Ready messages of `topic`, marked delivered.
    private func take(topic: String, max: Int, invisible: Duration) -> [Delivery] {
        let now = ContinuousClock.now
        let until = now + invisible
        var out: [Delivery] = []
        let count = topics[topic]?.count ?? 0
        rotation &+= 1
        for k in 0 ..< count where out.count < max {
            let i = (k + rotation) % count
            for offset in topics[topic]![i].ready(now: now, limit: max - out.count, filter: { _ in true }) {
                deliveries += 1
                if let m = topics[topic]![i].deliver(offset, delivery: deliveries, until: until) {
                    out.append(Delivery(message: m, handle: handle(topics[topic]![i].queue, offset)))
                }
            }
        }
        let mine: (ReceivedMessage) -> Bool = { $0.properties[Self.retryTopicProperty] == topic }
        for offset in retry.ready(now: now, limit: max - out.count, filter: mine) where out.count < max {
            deliveries += 1
            if let m = retry.deliver(offset, delivery: deliveries, until: until) {
                out.append(Delivery(message: m, handle: handle(retry.queue, offset)))
            }
        }
        return out
    }

    private func handle(_ queue: MessageQueue, _ offset: Int64) -> ReceiptHandle {
        ReceiptHandle(topic: queue.topic, brokerName: queue.brokerName, queueId: queue.queueId, queueOffset: offset,
                      delivery: deliveries)
    }

    private func nextVisibility(topic: String, after now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        ((topics[topic] ?? []) + [retry]).compactMap { $0.nextVisibility(after: now) }.min()
    }

    // MARK: Pulls

    private func cursor(_ slot: Slot) -> QueueCursor {
        switch slot {
        case .topic(let t, let i): topics[t]![i]
        case .retry: retry
        }
    }

    private func update(_ slot: Slot, _ change: (inout QueueCursor) -> Void) {
        switch slot {
        case .topic(let t, let i): change(&topics[t]![i])
        case .retry: change(&retry)
        }
    }

    /// Starts a pull on every idle queue of `topic` and the retry queue that has room; returns their tasks.
    private func startPulls(topic: String, suspend: Duration, consumer: PullConsumer) -> [Task<Void, Never>] {
        let now = ContinuousClock.now
        let slots = (0 ..< (topics[topic]?.count ?? 0)).map { Slot.topic(topic, $0) } + [.retry]
        var tasks: [Task<Void, Never>] = []
        for slot in slots {
            let c = cursor(slot)
            guard !c.busy, c.pending.count < config.maxPendingPerQueue, (c.backoffUntil ?? now) <= now else { continue }
            update(slot) { $0.busy = true }
            tasks.append(Task { await self.pull(slot, suspend: suspend, consumer: consumer) })
        }
        return tasks
    }

    /// One pull of `slot` (after reading the group's committed offset the first time).
    private func pull(_ slot: Slot, suspend: Duration, consumer: PullConsumer) async {
        let queue = cursor(slot).queue
        do {
            if cursor(slot).next == nil {
                let committed = try await consumer.committedOffset(queue: queue)
                let start: Int64
                if let committed { start = committed } else { start = try await consumer.minOffset(queue: queue) }
                update(slot) { $0.next = start; $0.lastCommitted = committed }
            }
            let from = cursor(slot).next!
            let started = ContinuousClock.now
            let millis = Int64(suspend.components.seconds * 1000 + suspend.components.attoseconds / 1_000_000_000_000_000)
            let result = try await consumer.pull(queue: queue, offset: from, maxNums: Self.pullBatch, suspendMillis: millis)
            let now = ContinuousClock.now
            update(slot) {
                _ = $0.accept(result.messages, from: from, nextBeginOffset: result.nextBeginOffset, now: now)
                $0.busy = false
                // A broker that answers an empty long poll at once must not be asked again in a tight loop.
                if result.messages.isEmpty, suspend > .zero, now - started < suspend / 2 {
                    $0.backoffUntil = now + .milliseconds(200)
                }
            }
        } catch {
            if case .topic(let topic, _) = slot { failures[topic] = error }
            logger.debug("gateway pull failed", metadata: ["gateway.queue": "\(queue)", "gateway.error": "\(error)"])
            update(slot) { $0.busy = false; $0.backoffUntil = ContinuousClock.now + Self.failureBackoff }
            if case .retry = slot { return }
        }
        wake()
    }

    // MARK: Waiting

    /// Returns when a pull completes or at `deadline`.
    private func signal(until deadline: ContinuousClock.Instant) async {
        nextWaiter += 1
        let id = nextWaiter
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.resume(id)
        }
        await withCheckedContinuation { waiters[id] = $0 }
        timer.cancel()
    }

    private func resume(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume()
    }

    func wake() {
        let all = waiters
        waiters.removeAll()
        for w in all.values { w.resume() }
    }

    // MARK: Ack / nack

    /// The outcome of one handle.
    struct Outcome: Sendable {
        var handle: String
        var error: String?
    }

    private func slot(of h: ReceiptHandle, topic: String) -> Slot? {
        if h.topic == retry.queue.topic, h.brokerName == retry.queue.brokerName, h.queueId == 0 { return .retry }
        guard h.topic == topic, let i = topics[topic]?.firstIndex(where: {
            $0.queue.brokerName == h.brokerName && $0.queue.queueId == h.queueId
        }) else { return nil }
        return .topic(topic, i)
    }

    /// Acknowledges deliveries; the group's committed offsets then advance over what is acknowledged.
    func ack(_ handles: [(text: String, handle: ReceiptHandle)], topic: String, consumer: PullConsumer) async -> [Outcome] {
        await settle(handles, topic: topic, consumer: consumer) { slot, h, _ in
            var ok = false
            update(slot) { ok = $0.ack(h.queueOffset, delivery: h.delivery) }
            return ok ? nil : Self.staleHandle
        }
    }

    static let staleHandle = "handle expired: the message was acknowledged, sent back or delivered again"

    /// Sends deliveries back as a RocketMQ consumer does (CONSUMER_SEND_MSG_BACK): to the group's retry topic
    /// with `delayLevel` (0: the broker's schedule, 3 + reconsume times), or to `%DLQ%<group>` once the message
    /// was consumed `maxReconsumeTimes` times (nil: the group's `retryMaxTimes`). A message sent back counts as
    /// acknowledged here; its copy comes back through the retry queue.
    func nack(_ handles: [(text: String, handle: ReceiptHandle)], topic: String, delayLevel: Int,
              maxReconsumeTimes: Int?, consumer: PullConsumer) async -> [Outcome] {
        await settle(handles, topic: topic, consumer: consumer) { slot, h, consumer in
            guard let message = cursor(slot).delivered(h.queueOffset, delivery: h.delivery) else { return Self.staleHandle }
            do {
                try await SendBack.send(message, group: group, delayLevel: delayLevel, maxReconsumeTimes: maxReconsumeTimes,
                                        queue: cursor(slot).queue, runtime: consumer.runtime)
            } catch {
                return GatewayError.mapping(error).message
            }
            update(slot) { _ = $0.ack(h.queueOffset, delivery: h.delivery) }
            return nil
        }
    }

    /// Applies `one` to each handle of this group and topic (its answer: nil or why it failed), then commits the
    /// queues whose handles succeeded.
    private func settle(_ handles: [(text: String, handle: ReceiptHandle)], topic: String, consumer: PullConsumer,
                        _ one: (Slot, ReceiptHandle, PullConsumer) async -> String?) async -> [Outcome] {
        pinRetryRoute(consumer)
        var out: [Outcome] = []
        var touched = Set<Slot>()
        for (text, h) in handles {
            guard let slot = slot(of: h, topic: topic) else {
                out.append(Outcome(handle: text, error: "handle is not one of group \(group)'s deliveries of topic \(topic)"))
                continue
            }
            let error = await one(slot, h, consumer)
            if error == nil { touched.insert(slot) }
            out.append(Outcome(handle: text, error: error))
        }
        await commit(touched, consumer: consumer)
        return out
    }

    /// Writes the committed offsets of `slots` that moved (UPDATE_CONSUMER_OFFSET, answered).
    private func commit(_ slots: Set<Slot>, consumer: PullConsumer) async {
        for slot in slots {
            guard let offset = cursor(slot).committable, offset != cursor(slot).lastCommitted else { continue }
            do {
                try await consumer.commitOffset(queue: cursor(slot).queue, offset: offset)
                update(slot) { $0.lastCommitted = Swift.max($0.lastCommitted ?? offset, offset) }
            } catch {
                logger.warning("gateway offset commit failed; the next ack retries",
                               metadata: ["gateway.group": "\(group)", "gateway.queue": "\(cursor(slot).queue)",
                                          "gateway.error": "\(error)"])
            }
        }
    }
}
