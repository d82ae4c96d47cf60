import Testing
@testable import TernStorage

/// One group's offsets come from its own key range in both backends: no other group's, not even one whose
/// name starts with it.
@Suite("Index: one group's consumer offsets")
struct GroupOffsetRangeTests {
    @Test(arguments: Backend.allCases)
    func groupRangeHoldsOnlyThatGroup(_ backend: Backend) throws {
        let dir = TempDir("group-offsets-\(backend)"); defer { dir.cleanup() }
        let index = try IndexGapTests.index(backend, dir)
        defer { index.close() }
        let q0 = QueueKey(topic: "T", queueId: 0), q1 = QueueKey(topic: "%RETRY%G", queueId: 0)
        try index.commitConsumerOffset(group: "G", queue: q0, offset: 7)
        try index.commitConsumerOffset(group: "G", queue: q1, offset: 2)
        try index.commitConsumerOffset(group: "G1", queue: q0, offset: 9)
        try index.commitConsumerOffset(group: "F", queue: q0, offset: 1)
        let g = try index.consumerOffsets(group: "G")
        #expect(g == [ConsumerOffsetKey(group: "G", queue: q0): 7, ConsumerOffsetKey(group: "G", queue: q1): 2])
        #expect(try index.consumerOffsets(group: "G1") == [ConsumerOffsetKey(group: "G1", queue: q0): 9])
        #expect(try index.consumerOffsets(group: "H").isEmpty)
        #expect(try index.consumerOffsets().filter { $0.key.group == "G" } == g)
    }
}
