import Foundation
import Synchronization
import TernSystem

/// How full the store's file system is, in RocketMQ's terms (`CleanCommitLogService.isSpaceToDelete`):
/// above `diskMaxUsedRatio` expired segments are deleted at once instead of waiting for `deleteWhen`; above
/// `diskCleanForciblyRatio` the oldest segments go even before they expire (but only ones whose every message
/// has been read); above `diskWarningRatio`, or when less room is left than the next segment and
/// the index reserve need, appends are refused until space comes back. Reads, offsets and admin keep working.
public enum DiskPressure: UInt8, Sendable, Comparable {
    case normal, reclaim, forcible, full

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// One reading of the store's file system.
public struct DiskUsage: Sendable, Equatable {
    public var total: Int64
    public var free: Int64
    public var usedRatio: Double { total > 0 ? Double(total - free) / Double(total) : 1 }

    public init(total: Int64, free: Int64) {
        self.total = total
        self.free = free
    }

    /// `93 % used of /data (…)`: the remark senders hear.
    public func describe(path: String) -> String {
        let mib = { (b: Int64) in "\(b >> 20) MiB" }
        return "\(Int((usedRatio * 100).rounded())) % used of \(path) (\(mib(free)) free of \(mib(total)))"
    }
}

/// The thresholds, as fractions (RocketMQ: `diskMaxUsedSpaceRatio` in percent, the other two as the
/// `rocketmq.broker.diskSpace…` properties in fractions).
public struct DiskSpacePolicy: Sendable, Equatable {
    public var maxUsedRatio: Double = 0.75
    public var cleanForciblyRatio: Double = 0.85
    public var warningRatio: Double = 0.90
    /// Free bytes kept for the index's growth and state files beside the log.
    public var reserveBytes: Int64 = 32 << 20

    public init() {}

    /// The pressure for `usage`; `segmentBytesNeeded` is what the writer still has to allocate before it can
    /// go on (the next segment's size when it is due and not yet prepared, else 0).
    public func pressure(_ usage: DiskUsage, segmentBytesNeeded: Int64) -> DiskPressure {
        let ratio = usage.usedRatio
        if ratio > warningRatio || usage.free < reserveBytes + segmentBytesNeeded { return .full }
        if ratio > cleanForciblyRatio { return .forcible }
        if ratio > maxUsedRatio { return .reclaim }
        return .normal
    }
}

/// The store's last disk reading. Updated by housekeeping (every pass: 20 ms while the log moves, 1 s when idle)
/// and before every retention pass; read by every append (one atomic load).
final class DiskSpaceMonitor: Sendable {
    let path: String
    let policy: DiskSpacePolicy
    private let state = Atomic<UInt8>(DiskPressure.normal.rawValue)
    private let last = Mutex<(usage: DiskUsage, needed: Int64)?>(nil)

    init(path: String, policy: DiskSpacePolicy) {
        self.path = path
        self.policy = policy
    }

    var pressure: DiskPressure { DiskPressure(rawValue: state.load(ordering: .relaxed)) ?? .normal }
    var usage: DiskUsage? { last.withLock { $0?.usage } }

    /// Reads the file system; returns the old and new pressure when it changed (for logging). A failed
    /// statvfs keeps the previous state.
    func check(segmentBytesNeeded: Int64) -> (from: DiskPressure, to: DiskPressure, usage: DiskUsage)? {
        guard let (total, free) = try? FileSystem.diskSpace(path) else { return nil }
        let usage = DiskUsage(total: total, free: free)
        last.withLock { $0 = (usage, segmentBytesNeeded) }
        let new = policy.pressure(usage, segmentBytesNeeded: segmentBytesNeeded)
        let old = DiskPressure(rawValue: state.exchange(new.rawValue, ordering: .relaxed)) ?? .normal
        return old == new ? nil : (old, new, usage)
    }

    /// The refusal for an append while the disk is full, else nil.
    func refusal() -> StoreError? {
        guard pressure == .full, let (usage, needed) = last.withLock({ $0 }) else { return nil }
        let limit = usage.usedRatio > policy.warningRatio
            ? "above the \(Int((policy.warningRatio * 100).rounded())) % limit (diskSpaceWarningLevelRatio)"
            : "less free than the \((policy.reserveBytes + needed) >> 20) MiB kept for the next segment and the index"
        return .diskFull("disk full: \(usage.describe(path: path)), \(limit); sends resume by themselves when space comes back")
    }
}
