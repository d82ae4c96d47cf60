import Glibc
import Testing
import TernSystem
import TernTestSupport

/// `MappedFile.writeAhead`: the file system writes the range's blocks (a reserved, unwritten extent becomes a
/// written one), contents never change, and the pages stay writable (a write takes no fault). The extent state is read
/// with `filefrag -v` (FIEMAP's "unwritten" flag); where the file system reports none after posix_fallocate
/// (tmpfs, some overlays), only the contents are checked.
@Suite struct WriteAheadTests {
    static let size = 8 << 20

    @Test func writtenBackRangeKeepsItsBytesAndLosesItsUnwrittenExtents() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            var file: MappedFile? = try MappedFile.open(path: path, size: Self.size, create: true)
            try check(file!, path)
            file = nil  // unmapped: the read below sees the file, not this mapping
            let reread = try MappedFile.openReadOnly(path: path)
            #expect(Array(reread.bytes(4_000_000..<4_000_004)) == [1, 2, 3, 4])
            #expect(Array(reread.bytes(1_000_000..<1_100_000)) == Self.written)
        }
    }

    /// This thread's minor page faults so far.
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (a GNU value the Swift module does not export)
        return usage.ru_minflt
    }

    static let written = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })

    func check(_ file: MappedFile, _ path: String) throws {
        do {
            // A writer already 100 KiB into the range: its bytes must come through as they are.
            let written = Self.written
            file.mutableBytes(1_000_000..<1_100_000).copyBytes(from: written)
            let range = 1 << 20 ..< 5 << 20, blocks = range.lowerBound / 4096 ..< range.upperBound / 4096
            let before = anyUnwrittenExtent(path, blocks: blocks)
            #expect(file.writeAhead(range))
            #expect(Array(file.bytes(1_000_000..<1_100_000)) == written)
            #expect(file.bytes(range.upperBound - 4096..<range.upperBound).allSatisfy { $0 == 0 })
            if before == true {
                #expect(anyUnwrittenExtent(path, blocks: blocks) == false, "the range's extents are still unwritten")
                // Outside the range (past it, rounded to the next MiB) nothing was written back.
                #expect(anyUnwrittenExtent(path, blocks: (6 << 20) / 4096 ..< Self.size / 4096) == true)
            }
            // The pages stay writable: writing one byte into each of 256 of them takes (almost) no page fault.
            let faultsBefore = Self.minorFaults()
            for page in 512..<768 { file.mutableBytes(page * 4096 ..< page * 4096 + 1)[0] = 9 }
            #expect(Self.minorFaults() - faultsBefore < 16)
            // A later sync writes what the writer put there.
            file.mutableBytes(4_000_000..<4_000_004).copyBytes(from: [1, 2, 3, 4])
            try file.sync(4_000_000..<4_000_004)
        }
    }
}
