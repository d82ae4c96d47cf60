import Foundation
import Synchronization
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// Flushed log pages far behind the writer leave the page cache (so their memory is reused for the next pages),
/// pages near the writer and unflushed pages stay, and every record reads back intact either way.
@Suite struct PageCacheDropTests {
    static let page = MappedFile.pageSize

    /// Pages covering [from, to).
    static func pages(_ from: Int64, _ to: Int64) -> Int {
        Int((to + Int64(page) - 1) / Int64(page) - from / Int64(page))
    }

    /// Appends `count` records of ~1 KiB and returns their offsets.
    static func fill(_ store: MessageStore, count: Int) throws -> [Int64] {
        let body = String(repeating: "x", count: 1_000)
        return try (0..<count).map { try store.append(draft(body: "\($0)-" + body)).physicalOffset }
    }

    static func intact(_ store: MessageStore, _ offsets: [Int64]) -> Bool {
        offsets.enumerated().allSatisfy { i, offset in
            store.message(at: offset).map { bodyString($0).hasPrefix("\(i)-") } ?? false
        }
    }

    @Test func dropsOnlyFlushedPagesBeyondTheKeptTail() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir))
        defer { store.close() }
        let log = store.log
        let offsets = try Self.fill(store, count: 600)
        let end = log.writePosition, segment = try #require(log.segments.first)
        #expect(end > 512 << 10 && end < Int64(segment.size))
        let page = Int64(Self.page)
        #expect(log.dropCachedLog(flushed: 0, keep: 128 << 10, granule: page) == 0)  // nothing flushed yet
        try log.flush(from: 0, to: end)
        #expect(segment.file.residentPageCount(0..<Int(end)) == Self.pages(0, end))

        // Flushed only below 256 KiB: nothing above it may go, however far behind the writer.
        let flushedAt = Int64(256 << 10)
        #expect(log.dropCachedLog(flushed: flushedAt, keep: 128 << 10, granule: page) == flushedAt)
        #expect(segment.file.residentPageCount(0..<Int(flushedAt)) == 0)
        #expect(segment.file.residentPageCount(Int(flushedAt)..<Int(end)) == Self.pages(flushedAt, end))

        // All flushed: everything but the last 128 KiB (rounded down to a page) goes.
        let upTo = (end - (128 << 10)) / Int64(Self.page) * Int64(Self.page)
        #expect(log.dropCachedLog(flushed: end, keep: 128 << 10, granule: page) == upTo - flushedAt)
        #expect(segment.file.residentPageCount(0..<Int(upTo)) == 0)
        #expect(segment.file.residentPageCount(Int(upTo)..<Int(end)) == Self.pages(upTo, end))
        #expect(log.dropCachedLog(flushed: end, keep: 128 << 10, granule: page) == 0)  // nothing new
        // The store's own passes end on whole granules only: less than one here.
        #expect(log.dropCachedLog(flushed: end, keep: 0) == 0)

        // Dropped bytes are read back from the file, CRC checked.
        #expect(Self.intact(store, offsets))
    }

    @Test func housekeepingDropsTheOldTailOfARunningStore() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var config = smallConfig(dir, flush: .sync(timeoutMillis: 5_000))
        config.cachedLogBytes = 128 << 10
        config.residentTailBytes = 64 << 10
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        // Past one drop granule (4 MiB) and the kept tail: ~5.6 MiB over 1 MiB segments.
        let offsets = try Self.fill(store, count: 5_500)
        let end = try store.appendDurablyBlocking(draft(body: "last")).endOffset
        let granule = CommitLog.cacheDropGranule
        let expected = (end - (128 << 10)) / granule * granule
        #expect(expected >= granule)
        // Durable up to `end`; the prefault thread passes every 20 ms while the log moves, else once a second.
        let deadline = Date().addingTimeInterval(10)
        while store.log.cacheDroppedBelow.withLock({ $0 }) < expected, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(store.log.cacheDroppedBelow.withLock { $0 } == expected)
        for segment in store.segments where segment.end <= expected {
            #expect(segment.file.residentPageCount(0..<segment.file.size) == 0)
        }
        #expect(Self.intact(store, offsets))
    }

    /// A log written and prefaulted sequentially sits in the page cache in large folios (ext4: up to 2 MiB), and a
    /// folio leaves only when a drop covers it whole. Passes as the prefault thread makes them, every MiB written,
    /// must still empty what they passed: ends falling inside folios left them cached for good.
    @Test func passesEveryMiBDropWholeFoliosOfASequentiallyPrefaultedLog() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var config = smallConfig(dir, segmentSize: 64 << 20)
        config.prefaultSegments = true
        config.maxMessageSize = 64 << 10
        let store = try MessageStore.open(config)  // not started: this test makes the passes
        defer { store.close() }
        let log = store.log
        var flushed: Int64 = 0
        while log.writePosition < 40 << 20 {
            _ = try Self.fill(store, count: 1_000)
            let end = log.writePosition
            try log.flush(from: flushed, to: end)
            flushed = end
            log.dropCachedLog(flushed: flushed, keep: 8 << 20)
            log.prefaultAhead(window: 16 << 20)
        }
        let below = log.cacheDroppedBelow.withLock { $0 }
        #expect(below >= 28 << 20)
        let segment = try #require(log.segments.first)
        let resident = segment.file.residentPageCount(0..<Int(below))
        #expect(resident == 0, "\(resident ?? -1) of \(Int(below) / Self.page) dropped pages still cached")
    }

    @Test func neverDropsWhenTurnedOff() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var config = smallConfig(dir, flush: .sync(timeoutMillis: 5_000))
        config.cachedLogBytes = nil
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        let offsets = try Self.fill(store, count: 600)
        let end = try store.appendDurablyBlocking(draft(body: "last")).endOffset
        let segment = try #require(store.segments.first)
        // Housekeeping passes every 20 ms while the log moves: a dozen of them never drop anything.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(store.log.cacheDroppedBelow.withLock { $0 } == 0)
        #expect(segment.file.residentPageCount(0..<Int(end)) == Self.pages(0, end))
        #expect(Self.intact(store, offsets))
    }
}
