import Foundation
import Testing
import TernChecksum
import TernMessage
@testable import TernStorage
import TernSystem

/// A pull's records are views of the mapped log. Invariant: a `StoredMessage` holds its `Segment` (and so its
/// `MappedFile`, which unmaps only in deinit), so retention deleting the segment while a pull still holds its
/// records (read, not yet copied into the answer) leaves those bytes mapped and intact; later reads see the move.
@Suite struct ReadUnderRetentionTests {
    @Test func recordsHeldByAPullSurviveTheirSegmentsDeletion() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, segmentSize: 64 * 1024)).start()
        defer { store.close() }
        let bodies = (0..<120).map { "m\($0)-" + String(repeating: "d", count: 2_000) }
        for body in bodies { _ = try store.append(draft(queueId: 0, body: body)) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let queue = QueueKey(topic: "TopicTest", queueId: 0)

        // The pull in flight: its records read from the first segment, not yet copied out.
        let inFlight = try store.getMessages(queue, from: 0, maxCount: 16)
        #expect(inFlight.status == .found && inFlight.messages.count == 16)
        let firstSegment = try #require(store.segments.first)
        #expect(inFlight.messages.allSatisfy { $0.segment === firstSegment })
        let path = firstSegment.file.path

        let deleted = try store.runRetention(now: Clock.wallMillis() + store.config.retentionMillis + 60_000,
                                             trigger: .init(expired: true, forcibly: false))
        #expect(deleted > 0)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(store.segments.first?.base != firstSegment.base)

        // Unlinked and out of the log, still mapped for the pull that holds it: every byte as written.
        for (i, m) in inFlight.messages.enumerated() {
            let r = m.record
            #expect(CRC32.rocketmqBodyCRC(r.body) == r.bodyCRC)
            #expect(r.body.elementsEqual(bodies[i].utf8))
        }
        // A pull after the deletion is moved on instead of reading the gone segment.
        let after = try store.getMessages(queue, from: 0, maxCount: 16)
        #expect(after.status == .offsetTooSmall && after.nextBeginOffset > 0)
    }
}
