import Glibc
import Testing
import TernSystem

/// A log synced every few records (group commit) must not rewrite more than its own pages per msync. ext4 on
/// recent kernels caches a sequentially faulted file in large folios once readahead has ramped up (here after
/// ~16 MiB), and each msync then re-dirties the whole folio around the tail. Measured as the bytes this thread
/// dirtied (`write_bytes` of /proc/thread-self/io, charged when a page becomes dirty) while appending after a
/// prefault. On a file system or kernel without large folios both prefaults pass; on the benchmark VMs (ext4,
/// Linux 6.18) the plain prefault dirties ~250 KiB per round of 24 KiB.
@Suite struct SinglePagePrefaultTests {
    static let size = 32 << 20
    static let recordBytes = 1_181, recordsPerRound = 20, rounds = 40

    /// Bytes this thread has caused to be written (dirtied page-cache bytes); nil without task I/O accounting.
    static func dirtiedBytes() -> Int? {
        let fd = Glibc.open("/proc/thread-self/io", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1_024)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        for line in String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n")
        where line.hasPrefix("write_bytes:") {
            return line.split(separator: " ").last.flatMap { Int($0) }
        }
        return nil
    }

    /// Appends `rounds` rounds of records from 24 MiB on, msyncing each round's bytes like the group commit, and
    /// returns the bytes dirtied per round. Synchronous: the thread (whose counter is read) does not change.
    static func dirtiedPerRound(singlePages: Bool, in dir: String) throws -> Int? {
        let file = try MappedFile.open(path: dir + "/segment", size: size, create: true)
        file.prefault(0..<size, singlePages: singlePages)
        let record = [UInt8](repeating: 0xA5, count: recordBytes)
        var position = 24 << 20, flushed = position
        guard let before = dirtiedBytes() else { return nil }
        for _ in 0..<rounds {
            for _ in 0..<recordsPerRound {
                file.mutableBytes(position..<(position + recordBytes)).copyBytes(from: record)
                position += recordBytes
            }
            try file.sync(flushed..<position)
            flushed = position
        }
        guard let after = dirtiedBytes() else { return nil }
        #expect(file.bytes((24 << 20)..<((24 << 20) + recordBytes)).allSatisfy { $0 == 0xA5 })
        return (after - before) / rounds
    }

    @Test func syncedAppendsDirtyOnlyTheirPagesAndTheTail() throws {
        try withTemporaryDirectory { dir throws in
            guard let perRound = try Self.dirtiedPerRound(singlePages: true, in: dir) else { return }
            // Each round re-dirties at most the previous round's tail page and the pages it fills (~6 pages of
            // data were dirtied by the prefault already); a large folio would be tens of pages.
            #expect(perRound <= 2 * MappedFile.pageSize, "dirtied \(perRound) bytes per round of \(Self.recordBytes * Self.recordsPerRound)")
        }
    }

    @Test func singlePagePrefaultKeepsContentAndLaterAdvice() throws {
        try withTemporaryDirectory { dir throws in
            let file = try MappedFile.open(path: dir + "/segment", size: 1 << 20, create: true)
            file.mutableBytes(5..<8).copyBytes(from: [7, 8, 9])
            file.prefault(1..<(1 << 20), singlePages: true)
            #expect(file.prefaultWithoutTouching(4096..<(1 << 20), singlePages: true))
            #expect(Array(file.bytes(4..<9)) == [0, 7, 8, 9, 0])
        }
    }
}
