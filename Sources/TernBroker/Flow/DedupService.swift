import Foundation
import Synchronization
import TernMessage
import TernStorage

/// Broker-side exactly-once for opted-in topics (beyond RocketMQ): a single-message send whose UNIQ_KEY was
/// stored in the same topic within the topic's window is answered with the first copy's send result and not
/// stored again.
///
/// The truth is the commit log: the unique-key index (derived from it, rebuilt on recovery) finds earlier
/// copies, so the window survives `kill -9`. The index trails appends by the dispatcher's lag, so copies
/// appended in the last `recentMillis` are also remembered in memory. Check, append and remember run under
/// one lock so two concurrent copies cannot both be stored; topics without a window never take it.
final class DedupService: Sendable {
    struct Original: Sendable, Equatable {
        /// STOREHOST the copy was written under (its msgId names it even if the broker's port changed since).
        var storeHost: HostAddress
        var physicalOffset: Int64
        var queueId: Int32
        var queueOffset: Int64
        var storeTimestamp: Int64
    }
    private struct State {
        var windows: [String: Int64]
        /// topic → UNIQ_KEY → the copy appended recently (may not be indexed yet).
        var recent: [String: [String: Original]] = [:]
        var insertsSincePrune = 0
    }
    private let state: Mutex<State>
    private let anyWindow = Atomic<Bool>(false)
    let store: MessageStore
    /// How long appended copies stay in memory: far beyond the dispatcher's lag (milliseconds).
    static let recentMillis: Int64 = 30_000

    init(store: MessageStore, windowsSeconds: [String: Int64]) {
        self.store = store
        let w = windowsSeconds.filter { $0.value > 0 }.mapValues { $0 * 1000 }
        state = Mutex(State(windows: w))
        anyWindow.store(!w.isEmpty, ordering: .relaxed)
    }

    /// The topic's window in ms, nil when the topic did not opt in.
    func windowMillis(_ topic: String) -> Int64? {
        guard anyWindow.load(ordering: .relaxed) else { return nil }
        return state.withLock { $0.windows[topic] }
    }

    func setWindow(seconds: Int64, topic: String) {
        state.withLock { s in
            s.windows[topic] = seconds > 0 ? seconds * 1000 : nil
            if seconds <= 0 { s.recent[topic] = nil }
            anyWindow.store(!s.windows.isEmpty, ordering: .relaxed)
        }
    }

    var windowsSeconds: [String: Int64] { state.withLock { $0.windows.mapValues { $0 / 1000 } } }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Runs `append` unless a copy of `key` is inside `topic`'s window; returns that copy instead.
    /// `append` returns the stored copy (nil when the append failed: nothing to remember).
    func deduplicate(topic: String, key: String, windowMillis: Int64,
                     append: () -> Original?) -> Original? {
        state.withLock { s in
            let now = Self.nowMillis()
            let oldest = now - windowMillis
            if let r = s.recent[topic]?[key], r.storeTimestamp >= oldest { return r }
            if let indexed = indexed(topic: topic, key: key, oldest: oldest) { return indexed }
            guard let stored = append() else { return nil }
            s.recent[topic, default: [:]][key] = stored
            s.insertsSincePrune += 1
            if s.insertsSincePrune >= 4096 {
                s.insertsSincePrune = 0
                let cut = now - Self.recentMillis
                for t in s.recent.keys { s.recent[t] = s.recent[t]!.filter { $0.value.storeTimestamp >= cut } }
            }
            return nil
        }
    }

    /// The newest indexed copy of `key` in `topic` stored at or after `oldest`.
    private func indexed(topic: String, key: String, oldest: Int64) -> Original? {
        guard let found = try? store.lookup(uniqueKey: key, limit: 16) else { return nil }
        var best: Original?
        for m in found {
            let r = m.record
            guard r.storeTimestamp >= oldest, r.topic.elementsEqual(topic.utf8) else { continue }
            if best == nil || r.storeTimestamp > best!.storeTimestamp {
                best = Original(storeHost: r.storeHost, physicalOffset: m.physicalOffset, queueId: r.queueId, queueOffset: r.queueOffset,
                                storeTimestamp: r.storeTimestamp)
            }
        }
        return best
    }
}
