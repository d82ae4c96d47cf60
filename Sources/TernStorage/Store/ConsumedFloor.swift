import Synchronization
import TernSystem

/// The lowest log offset a consumer may still want from memory (``MessageStore/lowestUnconsumedOffset(index:log:)``),
/// as the prefault thread keeps it: re-read from the index at most every `refreshNanos`, and only after the log or a
/// consumer offset moved since the last read, so an idle store reads nothing.
///
/// Stale is safe for what is kept: without an offset change the true value can only be higher than the one read
/// (new records land above it; retention only raises queues' first offsets), so a stale value keeps more cached,
/// never less. Removing a group's offsets can lower it: that changes ``IndexStore/consumerOffsetsVersion`` too.
final class ConsumedFloor: Sendable {
    private struct Read {
        var offset: Int64
        var at: UInt64
        var offsetsVersion: UInt64
        var writePosition: Int64
    }

    let refreshNanos: UInt64
    private let last = Mutex<Read?>(nil)
    /// Index reads so far (tests: an idle store stops reading).
    let reads = Atomic<Int>(0)

    init(refreshNanos: UInt64 = 2_000_000_000) { self.refreshNanos = refreshNanos }

    /// The floor, re-read when due; nil until a read succeeded.
    func current(index: any IndexStore, log: CommitLog, now: UInt64 = Clock.monotonicNanos()) -> Int64? {
        last.withLock { last in
            // The version and position first: a change after them makes the next call read again.
            let version = index.consumerOffsetsVersion, position = log.writePosition
            let due = last.map { now &- $0.at >= refreshNanos && ($0.offsetsVersion != version || $0.writePosition != position) } ?? true
            if due, let offset = try? MessageStore.lowestUnconsumedOffset(index: index, log: log) {
                reads.add(1, ordering: .relaxed)
                last = Read(offset: offset, at: now, offsetsVersion: version, writePosition: position)
            }
            return last?.offset
        }
    }
}
