/// One value per consume queue, gathered over a dispatch batch (each queue's slot while the index applies the
/// batch, each queue's new end for the dispatch event), with a queue found again without hashing in the common
/// case.
///
/// Why: a batch's records mostly belong to a few queues of one topic; a dictionary lookup per record hashed the
/// key for every record (~10 % of the dispatcher's time when keys were topic Strings). A direct-mapped slot per
/// queue id (its low bits) remembers the entry a key took last, compared as two integers; a slot never used this
/// batch proves the key is new, and only a slot holding another queue falls back to the dictionary.
struct QueueTally<Value> {
    private(set) var keys: [BatchQueue] = []
    /// `values[i]` belongs to `keys[i]`.
    var values: [Value] = []
    private var positions: [BatchQueue: Int] = [:]
    /// By `queueId & mask`: the position of the last key on that slot, -1 when none this batch.
    private var recent = [Int](repeating: -1, count: 16)
    private static var mask: Int32 { 15 }

    var isEmpty: Bool { keys.isEmpty }

    /// Forgets every entry, keeping the storage.
    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        for i in recent.indices { recent[i] = -1 }
    }

    /// The position of `key`'s entry, or nil when it has none yet.
    mutating func position(of key: BatchQueue) -> Int? {
        let slot = Int(key.queueId & Self.mask)
        let last = recent[slot]
        if last < 0 { return nil }  // every key ever added left its position on its slot
        if keys[last] == key { return last }
        guard let found = positions[key] else { return nil }
        recent[slot] = found
        return found
    }

    /// Adds an entry for `key` (which has none) and returns its position.
    @discardableResult
    mutating func append(_ key: BatchQueue, _ value: Value) -> Int {
        let position = keys.count
        keys.append(key)
        values.append(value)
        positions[key] = position
        recent[Int(key.queueId & Self.mask)] = position
        return position
    }

    /// Sets `key`'s value, adding an entry when it has none.
    mutating func set(_ key: BatchQueue, _ value: Value) {
        if let position = position(of: key) { values[position] = value } else { append(key, value) }
    }
}
