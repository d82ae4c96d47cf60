import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TernRemoting
import TernStorage
import TernTransport

/// The broker's gate in front of the processors (features.md §8): per-topic send rate limits with a circuit
/// breaker, fast failure of sends that waited too long, CONSUMER_SEND_MSG_BACK rate-limited per group and run
/// on its own executor, pull answers slowed per group; plus the dedup windows and put / get stats.
///
/// Sends run on the event loop (no hop to a send thread): the "send queue" is the read burst a frame arrived
/// in, and a send's wait is the time since that burst began (`RemotingConnection.readBurstStartNanos`).
/// Everything a refused request costs is a dictionary lookup and a clock read; nothing touches the store.
public final class FlowControl: Sendable {
    let config: FlowConfig
    let logger: Logger
    let topicLimiter: RateLimiter
    let sendBackLimiter: RateLimiter
    let pullLimiter: RateLimiter
    let dedup: DedupService
    let stats: BrokerStats
    /// Sends refused by fast failure / rate limits, duplicates answered (tests, runtime info).
    let fastFailures = Atomic<Int>(0)
    let rateLimited = Atomic<Int>(0)
    let duplicatesAnswered = Atomic<Int>(0)
    /// Test hook: milliseconds each admitted send is held on the event loop before processing, simulating a
    /// slow store (the append path itself is untouched).
    let simulatedSendDelayMillis = Atomic<Int>(0)

    /// CONSUMER_SEND_MSG_BACK's own executor: a retry storm queues here, not on the event loops.
    private let sendBackPool: NIOThreadPool
    private let sendBackQueued = Atomic<Int>(0)
    static let sendBackQueueCapacity = 10_000
    private let statsLogPath: String?

    init(config: FlowConfig, store: MessageStore, storeRoot: String, logger: Logger) {
        self.config = config
        self.logger = logger
        topicLimiter = RateLimiter(defaultRate: config.defaultTopicRateLimit, rates: config.topicRateLimits,
                                   breakerMillis: config.rateLimitBreakerMillis)
        sendBackLimiter = RateLimiter(defaultRate: config.sendBackRateLimit, rates: config.groupSendBackRateLimits,
                                      breakerMillis: config.rateLimitBreakerMillis)
        pullLimiter = RateLimiter(defaultRate: config.defaultGroupPullRateLimit, rates: config.groupPullRateLimits,
                                  breakerMillis: 0)
        dedup = DedupService(store: store, windowsSeconds: config.dedupWindowSeconds)
        stats = BrokerStats(periodMillis: config.statsPeriodMillis)
        statsLogPath = config.statsLogEnable ? storeRoot + "/logs/stats.log" : nil
        sendBackPool = NIOThreadPool(numberOfThreads: 1)
        sendBackPool.start()
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Waits for the send-back running now; queued ones are answered "broker is shutting down" (not stored,
    /// not acknowledged). Called from the lifecycle's drain step, never on an event loop.
    func shutdown() {
        try? sendBackPool.syncShutdownGracefully()
    }

    // MARK: The gate

    static let sendCodes: Set<Int> = [RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage,
                                      RequestCode.sendReplyMessage, RequestCode.sendReplyMessageV2]

    /// Admits, delays or refuses `request` before `processor` sees it.
    func admit(_ request: RemotingCommand, _ responder: RemotingResponder, _ processor: any BrokerProcessor) {
        switch request.code {
        case RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage,
             RequestCode.sendReplyMessage, RequestCode.sendReplyMessageV2:
            admitSend(request, responder, processor)
        case RequestCode.consumerSendMsgBack:
            admitSendBack(request, responder, processor)
        case RequestCode.pullMessage:
            admitPull(request, responder, processor)
        default:
            processor.handle(request, responder: responder)
        }
    }

    private func admitSend(_ request: RemotingCommand, _ responder: RemotingResponder, _ processor: any BrokerProcessor) {
        let f = request.extFields
        if topicLimiter.isActive {
            // SEND_MESSAGE names the topic `topic`; the V2 (short-named) header `b`.
            let topic = f["b"] ?? f["topic"] ?? ""
            if let remark = refusal(topicLimiter.acquire(topic, now: Self.now()), kind: "topic", name: topic,
                                    limiter: topicLimiter) {
                return responder.respond(code: ResponseCode.systemBusy, remark: remark)
            }
        }
        if config.brokerFastFailureEnable {
            let waited = Self.now() &- responder.connection.readBurstStartNanos
            let limit = UInt64(config.waitTimeMillsInSendQueue) * 1_000_000
            if waited > limit, waited < UInt64(Int64.max) {
                fastFailures.add(1, ordering: .relaxed)
                return responder.respond(code: ResponseCode.systemBusy, remark:
                    "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: \(waited / 1_000_000)ms, size of queue: \(fastFailures.load(ordering: .relaxed))")
                // (sends run on the event loop, so there is no queue to measure: "size" counts fast failures so far)
            }
        }
        let delay = simulatedSendDelayMillis.load(ordering: .relaxed)
        if delay > 0 { usleep(UInt32(delay) * 1000) }
        processor.handle(request, responder: responder)
    }

    /// Remark for a refused request, nil when admitted.
    private func refusal(_ d: TokenBucket.Decision, kind: String, name: String, limiter: RateLimiter) -> String? {
        switch d {
        case .admitted: return nil
        case .limited:
            rateLimited.add(1, ordering: .relaxed)
            logger.info("rate limit reached, circuit breaker open", metadata: [
                kind: "\(name)", "rate": "\(limiter.rate(for: name))", "breakerMillis": "\(limiter.breakerNanos / 1_000_000)"])
            return "[RateLimit]\(kind)[\(name)] exceeds \(limiter.rate(for: name)) msgs/s, circuit breaker open for \(limiter.breakerNanos / 1_000_000)ms"
        case .breakerOpen(let left):
            rateLimited.add(1, ordering: .relaxed)
            return "[RateLimit]\(kind)[\(name)] circuit breaker open, \(left / 1_000_000)ms left"
        }
    }

    private func admitSendBack(_ request: RemotingCommand, _ responder: RemotingResponder, _ processor: any BrokerProcessor) {
        let group = request.extFields["group"] ?? ""
        if let remark = refusal(sendBackLimiter.acquire(group, now: Self.now()), kind: "group", name: group,
                                limiter: sendBackLimiter) {
            return responder.respond(code: ResponseCode.systemBusy, remark: remark)
        }
        guard sendBackQueued.add(1, ordering: .relaxed).newValue <= Self.sendBackQueueCapacity else {
            sendBackQueued.subtract(1, ordering: .relaxed)
            return responder.respond(code: ResponseCode.systemBusy, remark: "[OVERLOAD]system busy, start flow control for a while")
        }
        let arrived = Self.now()
        let limit = config.brokerFastFailureEnable ? UInt64(config.waitTimeMillsInSendQueue) * 1_000_000 : .max
        sendBackPool.submit { [self] state in
            let queued = sendBackQueued.subtract(1, ordering: .relaxed).newValue
            guard state == .active else {
                return responder.respond(code: ResponseCode.serviceNotAvailable, remark: "broker is shutting down")
            }
            let waited = Self.now() - arrived
            if waited > limit {
                fastFailures.add(1, ordering: .relaxed)
                return responder.respond(code: ResponseCode.systemBusy, remark:
                    "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: \(waited / 1_000_000)ms, size of queue: \(queued)")
            }
            processor.handle(request, responder: responder)
        }
    }

    /// A group over its pull rate has its pull held until a token is back, then asks for at most the tokens
    /// available; the answer comes later, never as an error. What the answer carried is charged by `consumed`.
    private func admitPull(_ request: RemotingCommand, _ responder: RemotingResponder, _ processor: any BrokerProcessor) {
        guard pullLimiter.isActive, let group = request.extFields["consumerGroup"],
              let allowance = pullLimiter.pullAllowance(group, now: Self.now()) else {
            return processor.handle(request, responder: responder)
        }
        if allowance.delayNanos > 0 {
            responder.connection.channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(allowance.delayNanos))) { [self] in
                admitPull(request, responder, processor)
            }
            return
        }
        var request = request
        if let asked = request.extFields.int64("maxMsgNums"), asked > allowance.tokens {
            request.extFields.set("maxMsgNums", max(1, allowance.tokens))
        }
        processor.handle(request, responder: responder)
    }

    /// Messages a pull answered (stats and the group's pull bucket). Called by PullService on every read.
    func consumed(group: String, topic: String, count: Int) {
        guard count > 0 else { return }
        stats.got(group: group, topic: topic, count: count)
        pullLimiter.charge(group, count: count, now: Self.now())
    }

    // MARK: Stats log

    static func timestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: date)
    }

    /// Closes the stats period and appends its lines to the stats log (and the broker log at info).
    func rollStats() {
        let lines = stats.roll(timestamp: Self.timestamp(Date()))
        guard !lines.isEmpty else { return }
        for l in lines { logger.info("\(l)") }
        guard let statsLogPath else { return }
        let dir = (statsLogPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let text = Data((lines.joined(separator: "\n") + "\n").utf8)
        if let h = FileHandle(forWritingAtPath: statsLogPath) {
            defer { try? h.close() }
            _ = try? h.seekToEnd()
            try? h.write(contentsOf: text)
        } else {
            _ = FileManager.default.createFile(atPath: statsLogPath, contents: text)
        }
    }
}
