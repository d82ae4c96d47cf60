import Foundation
import Synchronization
import Testing
import TernSystem
@testable import TernStorage

/// Housekeeping builds the next segment without its pages; the prefault thread (idle priority, no lock held)
/// then faults in its first `prefaultWindowBytes`, so the writer that moves into it finds them in memory.
@Suite struct PreparedSegmentPrefaultTests {
    @Test func theNextSegmentsFirstWindowIsFaultedInAfterItIsBuilt() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let segmentSize = 4 << 20, window = 1 << 20
        var config = smallConfig(dir, segmentSize: segmentSize)
        config.prefaultSegments = true
        config.prefaultWindowBytes = window
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        // Past half the first segment: the next one is wanted.
        let body = String(repeating: "p", count: 16_000)
        while store.maxPhysicalOffset < Int64(segmentSize / 2 + 64 * 1024) { _ = try store.append(draft(body: body)) }

        let pages = window / MappedFile.pageSize
        let deadline = Date().addingTimeInterval(20)
        var resident = 0
        while Date() < deadline {
            if let ready = store.log.preparation.withLock({ $0.ready }), ready.base == Int64(segmentSize) {
                resident = ready.file.residentPageCount(0..<window) ?? 0
                if resident == pages { break }
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(resident == pages, "the prepared segment's first \(pages) pages are not in memory: \(resident)")
    }
}
