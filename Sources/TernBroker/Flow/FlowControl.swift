import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TernRemoting
import TernStorage
import TernTransport

/// Flow control in front of the processors (features.md §8): per-topic send rate limits with a circuit
/// breaker, fast failure of sends that waited too long, CONSUMER_SEND_MSG_BACK rate-limited per group and run
/// on its own bounded executor, pull answers slowed per group (the checks are admission gates, FlowGates.swift);
/// plus the dedup windows and put / get stats.
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
    /// Test hook: milliseconds each send-back is held on its executor before processing (a slow store).
    let simulatedSendBackDelayMillis = Atomic<Int>(0)
    /// Send-backs answered `[OVERLOAD]` because the executor's queue was full.
    let overloaded = Atomic<Int>(0)

    /// The retry executor (`runOnRetryExecutor`): a retry storm queues here, not on the event loops.
    private let sendBackPool: NIOThreadPool
    private let sendBackQueued = Atomic<Int>(0)
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

    /// Waits for the retry job (send-back, dead-letter request) running now; queued ones are answered "broker is shutting down" (not stored,
    /// not acknowledged). Called from the lifecycle's drain step, never on an event loop.
    func shutdown() {
        try? sendBackPool.syncShutdownGracefully()
    }

    // MARK: After admission (the gates are in FlowGates.swift)

    static let sendCodes: Set<Int> = [RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage,
                                      RequestCode.sendReplyMessage, RequestCode.sendReplyMessageV2]

    /// Runs an admitted request: CONSUMER_SEND_MSG_BACK on its bounded executor, everything else on the calling
    /// event loop.
    func run(_ request: RemotingCommand, _ responder: RemotingResponder, _ processor: any BrokerProcessor) {
        switch request.code {
        case RequestCode.consumerSendMsgBack:
            runSendBack(request, responder, processor)
        case RequestCode.sendMessage, RequestCode.sendMessageV2, RequestCode.sendBatchMessage,
             RequestCode.sendReplyMessage, RequestCode.sendReplyMessageV2:
            let delay = simulatedSendDelayMillis.load(ordering: .relaxed)
            if delay > 0 { usleep(UInt32(delay) * 1000) }
            processor.handle(request, responder: responder)
        default:
            processor.handle(request, responder: responder)
        }
    }

    /// The verdict for a rate limiter's decision: `[RateLimit]` refusals are SYSTEM_BUSY.
    func refusal(_ d: TokenBucket.Decision, kind: String, name: String, limiter: RateLimiter) -> AdmissionDecision {
        switch d {
        case .admitted: return .admit
        case .limited:
            rateLimited.add(1, ordering: .relaxed)
            logger.info("rate limit reached, circuit breaker open", metadata: [
                kind: "\(name)", "rate": "\(limiter.rate(for: name))", "breakerMillis": "\(limiter.breakerNanos / 1_000_000)"])
            return .refuse(code: ResponseCode.systemBusy, remark:
                "[RateLimit]\(kind)[\(name)] exceeds \(limiter.rate(for: name)) msgs/s, circuit breaker open for \(limiter.breakerNanos / 1_000_000)ms")
        case .breakerOpen(let left):
            rateLimited.add(1, ordering: .relaxed)
            return .refuse(code: ResponseCode.systemBusy,
                           remark: "[RateLimit]\(kind)[\(name)] circuit breaker open, \(left / 1_000_000)ms left")
        }
    }

    /// At most `sendBackQueueCapacity` send-backs wait for the executor; past that they are answered
    /// `[OVERLOAD]` (never stored). One that waited longer than the fast-failure limit is answered
    /// `[TIMEOUT_CLEAN_QUEUE]` (not stored either); every other one is processed and answered by the processor.
    private func runSendBack(_ request: RemotingCommand, _ responder: RemotingResponder, _ processor: any BrokerProcessor) {
        runOnRetryExecutor(responder) { [self] in
            let delay = simulatedSendBackDelayMillis.load(ordering: .relaxed)
            if delay > 0 { usleep(UInt32(delay) * 1000) }
            processor.handle(request, responder: responder)
        }
    }

    /// Runs `work` on the retry executor: the one bounded executor for consumer-retry work that may touch the
    /// store at length (send-backs, dead-letter queries and re-sends), so none of it runs on an event loop and
    /// a retry storm queues here, in front of nothing else. At most `sendBackQueueCapacity` jobs wait (past
    /// that: `[OVERLOAD]`); a job that waited past the fast-failure limit is answered `[TIMEOUT_CLEAN_QUEUE]`;
    /// queued jobs at shutdown are answered "broker is shutting down". `work` answers through `responder`.
    func runOnRetryExecutor(_ responder: RemotingResponder, _ work: @escaping @Sendable () -> Void) {
        guard sendBackQueued.add(1, ordering: .relaxed).newValue <= config.sendBackQueueCapacity else {
            sendBackQueued.subtract(1, ordering: .relaxed)
            overloaded.add(1, ordering: .relaxed)
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
            work()
        }
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
