import Testing
@testable import TernStorage

/// KEYS and UNIQ_KEY travel as ranges of one text buffer per batch; both backends index them as before: each
/// key of KEYS (split at spaces, empty pieces skipped) and the unique key, cut to the key-size limit.
@Suite("Index: keys from the batch's text")
struct DispatchTextTests {
    static let q = QueueKey(topic: "Orders", queueId: 0)

    @Test func keysSplitAtSpacesSkippingEmptyPieces() {
        var text: [UInt8] = Array("unrelated".utf8)
        var r = DispatchRecord(queueId: Self.q.queueId, entry: ConsumeQueueEntry(queueOffset: 0, physicalOffset: 0, size: 1,
                                                                                tagCode: 0, storeTimestamp: 1))
        r.setText(keys: ["", "a", "", "bb"], uniqueKey: "U1", in: &text)
        #expect(r.keys(in: text) == ["a", "bb"])
        #expect(r.uniqueKey(in: text) == "U1")
        r.setText(keys: [], uniqueKey: "", in: &text)
        #expect(r.keys == nil && r.uniqueKey == nil)
    }

    @Test(arguments: Backend.allCases)
    func keysAndUniqueKeysAreFound(_ backend: Backend) throws {
        let dir = TempDir("text-\(backend)"); defer { dir.cleanup() }
        let index: any IndexStore = backend == .lmdb ? try LMDBIndexStore(path: dir.path + "/index", mapSize: 1 << 26)
                                                     : InMemoryIndexStore()
        defer { index.close() }
        let long = String(repeating: "k", count: 600)  // past the key-size limit: cut, and found by the same cut
        let keys: [[String]] = [["a", "b"], [long], []]
        let uniques: [String?] = ["U0", nil, String(repeating: "u", count: 700)]
        var text: [UInt8] = []
        var records: [DispatchRecord] = []
        for i in 0..<3 {
            var r = DispatchRecord(queueId: Self.q.queueId, entry: ConsumeQueueEntry(queueOffset: Int64(i), physicalOffset: Int64(100 * i),
                                                                                    size: 100, tagCode: 0, storeTimestamp: 1_000 + Int64(i)))
            r.setText(keys: keys[i], uniqueKey: uniques[i], in: &text)
            records.append(r)
        }
        try index.apply(DispatchBatch(records: records, topics: [Self.q.topic], text: text, checkpoint: DispatchCheckpoint(offset: 300, lastRecord: 200)))
        for (key, offset) in [("a", 0), ("b", 0), (long, 100)] {
            #expect(try index.lookupKey(topic: "Orders", key: key, beginTimestamp: 0, endTimestamp: 10_000, limit: 10) == [Int64(offset)])
        }
        #expect(try index.lookupKey(topic: "Orders", key: "c", beginTimestamp: 0, endTimestamp: 10_000, limit: 10).isEmpty)
        #expect(try index.lookupUniqueKey("U0", limit: 10) == [0])
        #expect(try index.lookupUniqueKey(uniques[2]!, limit: 10) == [200])
        #expect(try index.queueRange(Self.q) == QueueRange(min: 0, max: 3))
    }
}
