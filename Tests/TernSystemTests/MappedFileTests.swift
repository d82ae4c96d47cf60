import Glibc
import Testing
import TernSystem

@Suite struct MappedFileTests {
    let size = 4 * MappedFile.pageSize

    @Test func createPreallocatesExactSize() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            let file = try MappedFile.open(path: path, size: size, create: true)
            #expect(file.size == size)
            #expect(file.isWritable)
            #expect(try FileSystem.fileSize(path) == size)
            // posix_fallocate reserved the blocks: the file is not sparse.
            var st = stat()
            #expect(stat(path, &st) == 0)
            #expect(Int(st.st_blocks) * 512 >= size)
            // A new file reads as zeros.
            #expect(file.bytes(0..<size).allSatisfy { $0 == 0 })
        }
    }

    /// A prefetch is clamped to the file (a range reaching past either end, or wholly outside it, is no crash) and
    /// changes no byte.
    @Test func prefetchIsClampedAndChangesNothing() throws {
        try withTemporaryDirectory { dir throws in
            let file = try MappedFile.open(path: dir + "/segment", size: size, create: true)
            let pattern = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            pattern.withUnsafeBytes { file.mutableBytes(0..<size).copyMemory(from: $0) }
            for range in [0..<size, 100..<1_200, -64..<64, size - 10..<size + 4096, size..<size + 64, -128..<(-1), 7..<7] {
                file.prefetch(range)
            }
            #expect(file.bytes(0..<size).elementsEqual(pattern))
        }
    }

    @Test func openMissingWithoutCreateThrowsENOENT() throws {
        try withTemporaryDirectory { dir throws in
            let error = #expect(throws: SystemError.self) {
                try MappedFile.open(path: dir + "/missing", size: size, create: false)
            }
            #expect(error?.errno == ENOENT)
            #expect(!FileSystem.fileExists(dir + "/missing"))
        }
    }

    @Test func sizeMismatchThrowsEINVAL() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            _ = try MappedFile.open(path: path, size: size, create: true)
            for create in [true, false] {
                let error = #expect(throws: SystemError.self) {
                    try MappedFile.open(path: path, size: size * 2, create: create)
                }
                #expect(error?.errno == EINVAL)
                #expect(error?.path == path)
            }
            // The existing file is left untouched.
            #expect(try FileSystem.fileSize(path) == size)
        }
    }

    @Test func emptyFileCountsAsNewOnlyWithCreate() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            try FileSystem.writeAtomically(path, [])
            let error = #expect(throws: SystemError.self) {
                try MappedFile.open(path: path, size: size, create: false)
            }
            #expect(error?.errno == EINVAL)
            let file = try MappedFile.open(path: path, size: size, create: true)
            #expect(file.size == size)
            #expect(try FileSystem.fileSize(path) == size)
        }
    }

    @Test func writeSyncReopenRead() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            let payload = bytes("hello, mapped world")
            let offset = MappedFile.pageSize + 100  // not page-aligned: exercises rounding in sync
            do {
                let file = try MappedFile.open(path: path, size: size, create: true)
                file.mutableBytes(offset..<offset + payload.count).copyBytes(from: payload)
                try file.sync(offset..<offset + payload.count)
                try file.syncAsync(0..<size)
                try file.sync(0..<0)
                #expect(Array(file.bytes(offset..<offset + payload.count)) == payload)
            }
            // Another open sees the bytes (through the file, not the old mapping).
            let contents = try FileSystem.readFile(path)
            #expect(contents.count == size)
            #expect(Array(contents[offset..<offset + payload.count]) == payload)
            let reopened = try MappedFile.open(path: path, size: size, create: false)
            #expect(Array(reopened.bytes(offset..<offset + payload.count)) == payload)
        }
    }

    @Test func twoMappingsShareBytes() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            let a = try MappedFile.open(path: path, size: size, create: true)
            let b = try MappedFile.open(path: path, size: size, create: false)
            a.mutableBytes(10..<13).copyBytes(from: [1, 2, 3])
            #expect(Array(b.bytes(10..<13)) == [1, 2, 3])
        }
    }

    @Test func zeroErasesOnlyTheRange() throws {
        try withTemporaryDirectory { dir throws in
            let file = try MappedFile.open(path: dir + "/segment", size: size, create: true)
            file.mutableBytes(0..<size).initializeMemory(as: UInt8.self, repeating: 0xAB)
            file.zero(100..<200)
            #expect(file.bytes(0..<100).allSatisfy { $0 == 0xAB })
            #expect(file.bytes(100..<200).allSatisfy { $0 == 0 })
            #expect(file.bytes(200..<size).allSatisfy { $0 == 0xAB })
        }
    }

    @Test func prefaultKeepsContentAndAdviceIsHarmless() throws {
        try withTemporaryDirectory { dir throws in
            let file = try MappedFile.open(path: dir + "/segment", size: size, create: true)
            file.mutableBytes(5..<8).copyBytes(from: [7, 8, 9])
            file.prefault(1..<size)  // unaligned start: rounded down
            #expect(Array(file.bytes(4..<9)) == [0, 7, 8, 9, 0])
            for advice: MappedFile.Advice in [.normal, .sequential, .random, .willNeed, .dontNeed] {
                file.advise(advice, 3..<size)
            }
            // MADV_DONTNEED on a shared file mapping drops pages, not data.
            #expect(Array(file.bytes(4..<9)) == [0, 7, 8, 9, 0])
        }
    }

    @Test func readOnlyMapping() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            do {
                let file = try MappedFile.open(path: path, size: size, create: true)
                file.mutableBytes(0..<4).copyBytes(from: [4, 3, 2, 1])
            }
            let readOnly = try MappedFile.openReadOnly(path: path)
            #expect(!readOnly.isWritable)
            #expect(readOnly.size == size)
            #expect(Array(readOnly.bytes(0..<4)) == [4, 3, 2, 1])

            let missing = #expect(throws: SystemError.self) { try MappedFile.openReadOnly(path: dir + "/none") }
            #expect(missing?.errno == ENOENT)
            try FileSystem.writeAtomically(dir + "/empty", [])
            let empty = #expect(throws: SystemError.self) { try MappedFile.openReadOnly(path: dir + "/empty") }
            #expect(empty?.errno == EINVAL)
        }
    }

    @Test func bytesStayValidAfterUnlink() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/segment"
            let file = try MappedFile.open(path: path, size: size, create: true)
            file.mutableBytes(0..<2).copyBytes(from: [42, 43])
            try FileSystem.remove(path)
            #expect(!FileSystem.fileExists(path))
            #expect(Array(file.bytes(0..<2)) == [42, 43])
        }
    }

    @Test func pageSizeIsAPowerOfTwo() {
        #expect(MappedFile.pageSize >= 4096)
        #expect(MappedFile.pageSize & (MappedFile.pageSize - 1) == 0)
    }
}
