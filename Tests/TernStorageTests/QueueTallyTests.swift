import Testing
@testable import TernStorage

/// Queues found again by their direct-mapped slot or, when another queue took the slot, through the dictionary:
/// every key keeps its own value whatever collides.
@Suite struct QueueTallyTests {
    @Test func collidingQueuesKeepTheirOwnValues() {
        var tally = QueueTally<Int64>()
        // Queue ids 1, 17 and -15 share a slot (low four bits); two topics share queue id 1.
        let keys = [BatchQueue(topic: 0, queueId: 1), BatchQueue(topic: 0, queueId: 17), BatchQueue(topic: 1, queueId: 1),
                    BatchQueue(topic: 0, queueId: -15), BatchQueue(topic: 0, queueId: 2)]
        for round in 0..<3 {
            for (i, key) in keys.enumerated() { tally.set(key, Int64(100 * round + i)) }
        }
        #expect(tally.keys == keys)
        #expect(tally.values == [200, 201, 202, 203, 204])
        #expect(tally.position(of: BatchQueue(topic: 0, queueId: 17)) == 1)
        #expect(tally.position(of: BatchQueue(topic: 2, queueId: 1)) == nil)
        #expect(tally.position(of: BatchQueue(topic: 0, queueId: 3)) == nil)

        tally.removeAll()
        #expect(tally.isEmpty)
        #expect(tally.position(of: keys[0]) == nil)
        #expect(tally.append(keys[2], 7) == 0)
        #expect(tally.position(of: keys[2]) == 0 && tally.position(of: keys[0]) == nil)
    }
}
