import Foundation
import Synchronization
import Testing
import TernSystem
import TernTestSupport
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

/// `warmMappedFile`: the prefault thread writes the log's pages back ahead of the writer, so the active segment's
/// blocks past the writer are written extents before any group commit reaches them; without it they stay
/// reserved (unwritten) until data lands there.
@Suite struct WarmMappedFileTests {
    /// Whether the 1 MiB ahead of the writer in the first segment has an unwritten extent, once the prefault
    /// thread made those pages resident (nil: the file system shows no unwritten extents to tell).
    static func aheadOfWriterUnwritten(warm: Bool) async throws -> Bool? {
        let dir = TempDir(); defer { dir.cleanup() }
        let segmentSize = 8 << 20, window = 2 << 20
        var config = smallConfig(dir, segmentSize: segmentSize)
        config.flushMode = .sync(timeoutMillis: 5_000)
        config.prefaultSegments = true
        config.prefaultWindowBytes = window
        config.warmMappedFile = warm
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let path = segmentPath(dir, base: 0)
        // The segment's far end, never prefaulted: shows whether this file system reports unwritten extents.
        guard anyUnwrittenExtent(path, blocks: (6 << 20) / 4096 ..< segmentSize / 4096) == true else { return nil }
        for i in 0..<20 { _ = try await store.appendDurably(draft(body: "record-\(i)")) }
        let from = Int(store.maxPhysicalOffset) / 4096 + 1, ahead = from ..< from + 256
        let deadline = Date().addingTimeInterval(20)
        var unwritten: Bool? = true
        while Date() < deadline {
            let resident = store.log.segments.first?.file.residentPageCount(ahead.lowerBound * 4096 ..< ahead.upperBound * 4096)
            unwritten = anyUnwrittenExtent(path, blocks: ahead)
            if resident == ahead.count, !warm || unwritten == false { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return unwritten
    }

    @Test func blocksAheadOfTheWriterAreWrittenOnlyWhenWarm() async throws {
        guard let cold = try await Self.aheadOfWriterUnwritten(warm: false) else { return }
        #expect(cold == true, "without warmMappedFile the prefault wrote blocks back")
        #expect(try await Self.aheadOfWriterUnwritten(warm: true) == false, "warmMappedFile left the blocks ahead unwritten")
    }
}
