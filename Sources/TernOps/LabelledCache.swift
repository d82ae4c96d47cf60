import Synchronization

/// Labelled instruments resolved once per label values and cached: a hit (every request after a label set's
/// first) takes no lock and allocates nothing; a miss makes the instrument under a mutex.
///
/// Cardinality is bounded: past `limit` distinct keys every new key shares the instrument of `overflowKey`
/// (label value `_other`), so a flood of topic or group names cannot grow the registry without bound.
///
/// Layout: an open-addressing table (linear probing) of set-once slots. Invariants, which make the lock-free
/// lookup correct:
/// - a slot goes from empty to one entry once (`AtomicLazyReference`, release / acquire) and never changes
///   again; entries are never removed, so a probe that meets an empty slot has seen every entry for its key;
/// - inserts are serialised by `inserting`, and a miss re-probes under it, so no key is entered twice;
/// - at most `capacity` keys are entered (`limit` own instruments plus as many keys again mapped to the
///   overflow instrument, plus the overflow key) in more than `2 * capacity` slots, so a probe always meets an empty slot. Keys
///   past that (a flood) resolve to the overflow instrument through the mutex.
final class LabelledCache<Key: Hashable & Sendable, Instrument: Sendable>: Sendable {
    private final class Entry: Sendable {
        let key: Key
        let instrument: Instrument
        init(key: Key, instrument: Instrument) {
            self.key = key
            self.instrument = instrument
        }
    }
    private final class Slot: Sendable { let entry = AtomicLazyReference<Entry>() }

    private let slots: [Slot]
    private let mask: Int
    private let limit: Int
    private let capacity: Int
    private let overflowKey: Key
    private let make: @Sendable (Key) -> Instrument
    /// Keys entered, and how many of them own an instrument (the rest share the overflow one).
    private let inserting = Mutex<(entered: Int, owned: Int)>((0, 0))

    init(limit: Int, overflowKey: Key, make: @escaping @Sendable (Key) -> Instrument) {
        self.limit = limit
        self.overflowKey = overflowKey
        self.make = make
        capacity = 2 * limit + 1
        var size = 8
        while size < 2 * capacity + 2 { size <<= 1 }
        slots = (0..<size).map { _ in Slot() }
        mask = size - 1
    }

    subscript(_ key: Key) -> Instrument {
        if let i = find(key) { return i }
        return insert(key)
    }

    /// Distinct label sets with their own instrument (the overflow one included).
    var count: Int { inserting.withLock { $0.owned } }

    private func find(_ key: Key) -> Instrument? {
        var i = key.hashValue & mask
        while let e = slots[i].entry.load() {
            if e.key == key { return e.instrument }
            i = (i + 1) & mask
        }
        return nil
    }

    private func insert(_ key: Key) -> Instrument {
        inserting.withLock { state in
            if let i = find(key) { return i }
            let instrument: Instrument
            if state.owned < limit || key == overflowKey {
                instrument = make(key)
                state.owned += 1
            } else if let shared = find(overflowKey) {
                instrument = shared
            } else {
                instrument = make(overflowKey)
                state.owned += 1
                enter(Entry(key: overflowKey, instrument: instrument))
                state.entered += 1
            }
            if state.entered < capacity {
                enter(Entry(key: key, instrument: instrument))
                state.entered += 1
            }
            return instrument
        }
    }

    /// Publishes `entry` in the first empty slot of its probe sequence (called under `inserting`).
    private func enter(_ entry: Entry) {
        var i = entry.key.hashValue & mask
        while slots[i].entry.storeIfNil(entry) !== entry { i = (i + 1) & mask }
    }
}
