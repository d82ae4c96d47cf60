import TernMessage

/// Names and derived-state rules of delayed delivery (delay levels and arbitrary-time timers).
///
/// Event sourcing: everything the delivery service needs is derived from commit-log records by the
/// dispatcher, in the same LMDB transaction as the other indexes:
/// - a record in `SCHEDULE_TOPIC_XXXX` queue N-1 gets tag code = store time + delay of level N (its due time);
/// - a record in the timer topic with `TIMER_OUT_MS` enters the timer table keyed (due ms, physical offset);
/// - a record re-appended by the delivery service carries `TERN_DELIVERED` naming its source; dispatching it
///   advances that level's progress (consumer offset of group `%SCHEDULE%`, never backwards) or deletes the
///   timer entry. So delivery and its progress are one atomic fact: after `kill -9` between the append and
///   anything else, recovery replays the delivered record and the source is never delivered twice.
public enum DelayedDelivery {
    public static let scheduleTopic = "SCHEDULE_TOPIC_XXXX"
    /// RocketMQ 5.x timer topic name; we keep the name, the structure is our LMDB table.
    public static let timerTopic = "rmq_sys_wheel_timer"
    /// Consumer-offset group holding each level queue's delivery progress (next schedule-queue offset).
    public static let progressGroup = "%SCHEDULE%"
    /// Absolute due time (ms) of a timer record, written by the broker (RocketMQ 5.x name).
    public static let timerOutProperty = "TIMER_OUT_MS"
    /// Set on a re-appended (delivered) record: `S<queueId>:<scheduleQueueOffset>` or `T<dueMs>:<physOffset>`.
    public static let deliveredProperty = "TERN_DELIVERED"

    /// RocketMQ's default `messageDelayLevel`: 1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h.
    public static let defaultLevelMillis: [Int64] = [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600,
                                                     1_200, 1_800, 3_600, 7_200].map { $0 * 1_000 }

    /// Delay of `level` (1-based; capped to the table's range).
    public static func delayMillis(level: Int, _ table: [Int64]) -> Int64 {
        guard !table.isEmpty else { return 0 }
        return table[min(max(level, 1), table.count) - 1]
    }
}

/// One pending timer: a record of the timer topic due at `due` (ms).
public struct TimerEntry: Hashable, Sendable, Comparable, BitwiseCopyable {
    public var due: Int64
    public var physicalOffset: Int64
    public init(due: Int64, physicalOffset: Int64) { self.due = due; self.physicalOffset = physicalOffset }
    public static func < (a: TimerEntry, b: TimerEntry) -> Bool { (a.due, a.physicalOffset) < (b.due, b.physicalOffset) }
}

/// The source a delivered record came from (its `TERN_DELIVERED` property).
public enum DeliveryMark: Hashable, Sendable, BitwiseCopyable {
    case schedule(queueId: Int32, queueOffset: Int64)
    case timer(TimerEntry)

    public var propertyValue: String {
        switch self {
        case let .schedule(q, o): "S\(q):\(o)"
        case let .timer(t): "T\(t.due):\(t.physicalOffset)"
        }
    }

    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard let kind = bytes.first, let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 1,
              let a = Int64(String(decoding: bytes[1..<colon], as: UTF8.self)),
              let b = Int64(String(decoding: bytes[(colon + 1)...], as: UTF8.self)) else { return nil }
        switch kind {
        case UInt8(ascii: "S"):
            guard let q = Int32(exactly: a) else { return nil }
            self = .schedule(queueId: q, queueOffset: b)
        case UInt8(ascii: "T"): self = .timer(TimerEntry(due: a, physicalOffset: b))
        default: return nil
        }
    }

    public init?(_ text: String) {
        var t = text
        guard let m = t.withUTF8({ DeliveryMark(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = m
    }
}
