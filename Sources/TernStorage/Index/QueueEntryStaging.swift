/// A dispatch batch's consume-queue values, staged in record order and handed back queue by queue, so the index
/// puts each queue's run in one LMDB call (MDB_MULTIPLE | MDB_APPENDDUP): the queue's key is found once per batch,
/// not once per record. Queues are positions `0..<queueCount` (a batch's `QueueTally` order).
///
/// Invariant: `values` holds `queues.count` values of `valueBytes` each, the n-th staged for `queues[n]`. Runs are
/// grouped by a counting sort, which is stable: a queue's values keep the order they were staged in (ascending
/// offsets, as the index's gap check ensures).
struct QueueEntryStaging {
    let valueBytes: Int
    private var values: [UInt8] = []
    private var queues: [Int32] = []
    /// `starts[i]..<starts[i + 1]`: queue i's values in `grouped`; `next[i]`: queue i's next free place there.
    private var starts: [Int] = []
    private var next: [Int] = []
    private var grouped: [UInt8] = []

    init(valueBytes: Int) { self.valueBytes = valueBytes }

    /// Forgets every staged value, keeping the storage.
    mutating func removeAll() {
        values.removeAll(keepingCapacity: true)
        queues.removeAll(keepingCapacity: true)
    }

    /// Stages `value` (`valueBytes` long) for the queue at `position`.
    mutating func stage(_ value: UnsafeRawBufferPointer, queue position: Int) {
        precondition(value.count == valueBytes, "a staged value is \(valueBytes) bytes")
        values.append(contentsOf: value)
        queues.append(Int32(position))
    }

    /// Calls `body` with each of the `queueCount` queues' run of values (side by side, in staging order); a queue
    /// with no value gets an empty run.
    mutating func forEachRun(queueCount: Int, _ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard queueCount > 0 else { return }
        let size = valueBytes
        starts.removeAll(keepingCapacity: true)
        starts.append(contentsOf: repeatElement(0, count: queueCount + 1))
        for q in queues { starts[Int(q) + 1] += 1 }
        for i in 0..<queueCount { starts[i + 1] += starts[i] }
        if queueCount > 1 {
            if grouped.count < values.count { grouped = [UInt8](repeating: 0, count: values.count) }
            next.removeAll(keepingCapacity: true)
            next.append(contentsOf: starts[0..<queueCount])
            values.withUnsafeBytes { from in
                grouped.withUnsafeMutableBytes { to in
                    // In bounds: place < starts[q + 1] <= queues.count, and both buffers hold queues.count values.
                    for (n, q) in queues.enumerated() {
                        let place = next[Int(q)]
                        next[Int(q)] = place + 1
                        to.baseAddress!.advanced(by: place * size)
                            .copyMemory(from: from.baseAddress!.advanced(by: n * size), byteCount: size)
                    }
                }
            }
        }
        try (queueCount == 1 ? values : grouped).withUnsafeBytes { all in
            for i in 0..<queueCount {
                try body(i, UnsafeRawBufferPointer(rebasing: all[starts[i] * size ..< starts[i + 1] * size]))
            }
        }
    }
}
