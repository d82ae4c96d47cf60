import Testing
@testable import TernStorage

/// Queues found again by their direct-mapped slot or, when another queue took the slot, through the dictionary:
/// every key keeps its own value whatever collides.
@Suite struct QueueTallyTests {
    @Test func collidingQueuesKeepTheirOwnValues() {
        var tally = QueueTally<Int64>()
        // Queue ids 1, 17 and -15 share a slot (low four bits); two topics share queue id 1.
        let keys = [QueueKey(topic: "A", queueId: 1), QueueKey(topic: "A", queueId: 17), QueueKey(topic: "B", queueId: 1),
                    QueueKey(topic: "A", queueId: -15), QueueKey(topic: "A", queueId: 2)]
        for round in 0..<3 {
            for (i, key) in keys.enumerated() { tally.set(key, Int64(100 * round + i)) }
        }
        #expect(tally.keys == keys)
        #expect(tally.values == [200, 201, 202, 203, 204])
        // An equal key in another String instance finds the same entry.
        let rebuilt = QueueKey(topic: String(decoding: Array("A".utf8), as: UTF8.self), queueId: 17)
        #expect(tally.position(of: rebuilt) == 1)
        #expect(tally.position(of: QueueKey(topic: "C", queueId: 1)) == nil)
        #expect(tally.position(of: QueueKey(topic: "A", queueId: 3)) == nil)

        tally.removeAll()
        #expect(tally.isEmpty)
        #expect(tally.position(of: keys[0]) == nil)
        #expect(tally.append(keys[2], 7) == 0)
        #expect(tally.position(of: keys[2]) == 0 && tally.position(of: keys[0]) == nil)
    }
}
