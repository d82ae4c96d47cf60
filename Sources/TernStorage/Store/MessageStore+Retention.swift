import Foundation
import Logging
import TernMessage
import TernSystem

extension MessageStore {
    /// Why a retention pass may delete a segment.
    public struct RetentionTrigger: Sendable, Equatable {
        /// Expired segments may go: it is a `deleteWhen` hour, or the disk is above `diskMaxUsedRatio`.
        public var expired: Bool
        /// Unexpired segments may go too, oldest first, down to the lowest offset still needed.
        public var forcibly: Bool
        public init(expired: Bool, forcibly: Bool) { self.expired = expired; self.forcibly = forcibly }
    }

    /// The trigger for a pass at `now` under the current disk pressure (RocketMQ's `deleteExpiredFiles`).
    func retentionTrigger(now: Int64, pressure: DiskPressure) -> RetentionTrigger {
        let hourMatches = config.deleteWhenHours.map { hours in
            hours.contains(Calendar.current.component(.hour, from: Date(timeIntervalSince1970: Double(now) / 1000)))
        } ?? true
        return RetentionTrigger(expired: hourMatches || pressure >= .reclaim,
                                forcibly: config.cleanFileForciblyEnable && pressure >= .forcible)
    }

    /// Deletes the oldest segments that are expired (older than `retentionMillis`) when `trigger.expired`, and,
    /// when `trigger.forcibly`, unexpired ones too while the disk stays above the clean-forcibly ratio. Never the
    /// active segment, one the indexes do not fully cover, nor (forcibly) one holding a message not yet read
    /// (`lowestNeededOffset`): acknowledged messages are lost only to expiry, never to a full disk, which
    /// refuses sends instead. (RocketMQ deletes forcibly whatever consumers still need.) Then drops index entries
    /// below the new log minimum. Returns the number of segments deleted.
    @discardableResult
    public func runRetention(now: Int64? = nil, trigger: RetentionTrigger? = nil) throws -> Int {
        let now = now ?? config.clock.wallMillis()
        _ = checkDiskSpace()
        let trigger = trigger ?? retentionTrigger(now: now, pressure: disk.pressure)
        guard trigger.expired || trigger.forcibly else { return 0 }
        var deleted = 0
        var newMin: Int64? = nil
        let dispatched = dispatcher.dispatched
        let floor = trigger.forcibly ? try lowestNeededOffset() : 0
        while deleted < config.retentionBatch {
            var reason = ""
            let m = try log.deleteOldestSegment { seg in
                guard seg.end <= dispatched else { return false }
                let mtime = (try? FileSystem.modificationTimeMillis(seg.file.path)) ?? now
                if trigger.expired, now - mtime > config.retentionMillis {
                    reason = "expired"
                    return true
                }
                if trigger.forcibly, seg.end <= floor {
                    reason = "disk above \(Int(disk.policy.cleanForciblyRatio * 100)) %, every message in it read"
                    return true
                }
                return false
            }
            guard let m else { break }
            let level: Logger.Level = reason == "expired" ? .info : .warning
            logger.log(level: level, "deleted commit-log segment", metadata: [
                "below": "\(m)", "reason": "\(reason)", "disk": "\(disk.usage.map { $0.describe(path: disk.path) } ?? "?")"])
            newMin = m
            deleted += 1
        }
        if let m = newMin {
            let firstTime = log.recordAnyPosition(at: m)?.record.storeTimestamp ?? now
            try index.deleteBelow(m, firstStoreTimestamp: firstTime)
        }
        return deleted
    }

    /// The lowest commit-log offset still unread: in every queue, the next message of its slowest consumer group
    /// (the schedule's level progress included), or its first message when no group has committed an offset
    /// on it; and every pending timer. Segments ending at or below it hold only messages somebody has read.
    func lowestNeededOffset() throws -> Int64 {
        var floor = try Self.lowestUnread(index: index, log: log) { _ in true }
        let timerLimit = 100_000
        let timers = try index.timers(dueBy: .max, limit: timerLimit)
        if timers.count == timerLimit { return log.minOffset }  // too many to be sure: keep everything
        for t in timers { floor = min(floor, t.physicalOffset) }
        return floor
    }

    /// The lowest commit-log offset a consumer may still want from memory (`StoreConfig.cachedConsumedLogBytes`):
    /// `lowestNeededOffset` over consumer topics only (no system topic, no pending timer).
    func lowestUnconsumedOffset() throws -> Int64 {
        try Self.lowestUnconsumedOffset(index: index, log: log)
    }

    /// ``lowestUnconsumedOffset()`` from the store's parts: the prefault thread holds these, not the store (a
    /// thread holding the store could run its deinit, whose `close` waits for that very thread).
    static func lowestUnconsumedOffset(index: any IndexStore, log: CommitLog) throws -> Int64 {
        try lowestUnread(index: index, log: log) { !isSystemTopic($0.topic) }
    }

    /// Topics the broker's own services write and read (schedule levels, timers, transactions, trace) or that
    /// nobody consumes in the normal course (dead letters).
    static func isSystemTopic(_ topic: String) -> Bool {
        topic.hasPrefix("%DLQ%") || topic.hasPrefix("RMQ_SYS_") || topic.hasPrefix("rmq_sys_")
            || topic == DelayedDelivery.scheduleTopic
    }

    /// In every queue `includes` accepts, the next message of its slowest consumer group, or its first message
    /// when no group has committed an offset on it: the lowest such log offset (the write position when none).
    private static func lowestUnread(index: any IndexStore, log: CommitLog, in includes: (QueueKey) -> Bool) throws -> Int64 {
        var slowest: [QueueKey: Int64] = [:]
        for (key, offset) in try index.consumerOffsets() { slowest[key.queue] = min(slowest[key.queue] ?? offset, offset) }
        var floor = log.writePosition
        for (queue, range) in try index.queues() where includes(queue) {
            let next = max(slowest[queue] ?? range.min, range.min)
            guard next < range.max, let e = try index.entries(queue, from: next, maxCount: 1).first else { continue }
            floor = min(floor, e.physicalOffset)
        }
        return floor
    }

    /// Reads the disk now and logs a change of pressure; returns the current pressure.
    @discardableResult
    func checkDiskSpace() -> DiskPressure {
        let needed = log.wantsNextSegment ? Int64(config.segmentSize) : 0
        if let change = disk.check(segmentBytesNeeded: needed) {
            let what = change.usage.describe(path: disk.path)
            switch change.to {
            case .full: logger.error("disk full: refusing sends until space comes back", metadata: ["disk": "\(what)"])
            case _ where change.from == .full:
                logger.notice("disk space back: accepting sends again", metadata: ["disk": "\(what)"])
            case .forcible: logger.warning("disk nearly full: deleting the oldest consumed segments", metadata: ["disk": "\(what)"])
            default: logger.info("disk pressure \(change.from) → \(change.to)", metadata: ["disk": "\(what)"])
            }
        }
        return disk.pressure
    }

    /// The disk as last read: pressure and usage (admin, metrics).
    public var diskPressure: DiskPressure { disk.pressure }
    public var diskUsage: DiskUsage? { disk.usage }
}
