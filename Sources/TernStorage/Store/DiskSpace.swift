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
///
/// `paths`: the commit log's directory first, then the root (the index and state files) when it lies on another
/// path; the pressure is the worse of their file systems (the next segment's size counts on the log's only), and
/// what senders hear names that file system.
final class DiskSpaceMonitor: Sendable {
    let paths: [String]
    let policy: DiskSpacePolicy
    private let state = Atomic<UInt8>(DiskPressure.normal.rawValue)
    private let last = Mutex<(usage: DiskUsage, needed: Int64, path: String)?>(nil)

    init(paths: [String], policy: DiskSpacePolicy) {
        precondition(!paths.isEmpty)
        self.paths = paths
        self.policy = policy
    }

    var pressure: DiskPressure { DiskPressure(rawValue: state.load(ordering: .relaxed)) ?? .normal }
    var usage: DiskUsage? { last.withLock { $0?.usage } }
    /// The path whose file system the last reading judged (the worse one).
    var path: String { last.withLock { $0?.path } ?? paths[0] }

    /// Reads the file systems; returns the old and new pressure when it changed (for logging). A failed
    /// statvfs keeps the previous state.
    func check(segmentBytesNeeded: Int64) -> (from: DiskPressure, to: DiskPressure, usage: DiskUsage)? {
        var worst: (pressure: DiskPressure, usage: DiskUsage, needed: Int64, path: String)? = nil
        for (i, path) in paths.enumerated() {
            guard let (total, free) = try? FileSystem.diskSpace(path) else { return nil }
            let usage = DiskUsage(total: total, free: free), needed = i == 0 ? segmentBytesNeeded : 0
            let pressure = policy.pressure(usage, segmentBytesNeeded: needed)
            if worst.map({ pressure > $0.pressure }) ?? true { worst = (pressure, usage, needed, path) }
        }
        guard let worst else { return nil }
        last.withLock { $0 = (worst.usage, worst.needed, worst.path) }
        let old = DiskPressure(rawValue: state.exchange(worst.pressure.rawValue, ordering: .relaxed)) ?? .normal
        return old == worst.pressure ? nil : (old, worst.pressure, worst.usage)
    }

    /// The refusal for an append while the disk is full, else nil.
    func refusal() -> StoreError? {
        guard pressure == .full, let (usage, needed, path) = last.withLock({ $0 }) else { return nil }
        let limit = usage.usedRatio > policy.warningRatio
            ? "above the \(Int((policy.warningRatio * 100).rounded())) % limit (diskSpaceWarningLevelRatio)"
            : "less free than the \((policy.reserveBytes + needed) >> 20) MiB kept for the next segment and the index"
        return .diskFull("disk full: \(usage.describe(path: path)), \(limit); sends resume by themselves when space comes back")
    }
}
