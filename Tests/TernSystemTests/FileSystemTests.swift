import Glibc
import Testing
import TernSystem

@Suite struct FileSystemTests {
    @Test func createListAndRemoveDirectories() throws {
        try withTemporaryDirectory { dir throws in
            let nested = dir + "/a/b/c"
            try FileSystem.createDirectory(nested)
            try FileSystem.createDirectory(nested)  // idempotent
            #expect(FileSystem.isDirectory(nested))
            #expect(FileSystem.fileExists(nested))

            try FileSystem.writeAtomically(dir + "/a/z", [1])
            try FileSystem.writeAtomically(dir + "/a/m", [2])
            #expect(try FileSystem.listDirectory(dir + "/a") == ["b", "m", "z"])
            #expect(try FileSystem.listDirectory(dir + "/nope") == [])
            #expect(!FileSystem.isDirectory(dir + "/a/z"))

            // A file in the way of mkdir -p.
            let blocked = #expect(throws: SystemError.self) { try FileSystem.createDirectory(dir + "/a/z/sub") }
            #expect(blocked?.errno == ENOTDIR)

            try FileSystem.remove(dir + "/a/m")
            #expect(!FileSystem.fileExists(dir + "/a/m"))
            let missing = #expect(throws: SystemError.self) { try FileSystem.remove(dir + "/a/m") }
            #expect(missing?.errno == ENOENT)

            try FileSystem.removeRecursively(dir + "/a")
            #expect(!FileSystem.fileExists(dir + "/a"))
            try FileSystem.removeRecursively(dir + "/a")  // missing: no error
            #expect(try FileSystem.listDirectory(dir) == [])
        }
    }

    @Test func removeRecursivelyDoesNotFollowLinks() throws {
        try withTemporaryDirectory { dir throws in
            try FileSystem.createDirectory(dir + "/keep")
            try FileSystem.writeAtomically(dir + "/keep/file", [1])
            try FileSystem.createDirectory(dir + "/doomed")
            #expect(symlink(dir + "/keep", dir + "/doomed/link") == 0)
            try FileSystem.removeRecursively(dir + "/doomed")
            #expect(!FileSystem.fileExists(dir + "/doomed"))
            #expect(try FileSystem.readFile(dir + "/keep/file") == [1])
        }
    }

    @Test func writeAtomicallyReplacesAndLeavesNoTemporary() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/checkpoint"
            try FileSystem.writeAtomically(path, bytes("first version, longer"))
            try FileSystem.writeAtomically(path, bytes("second"))
            #expect(try FileSystem.readFile(path) == bytes("second"))
            #expect(try FileSystem.fileSize(path) == 6)
            #expect(try FileSystem.listDirectory(dir) == ["checkpoint"])

            let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try FileSystem.writeAtomically(path, big)
            #expect(try FileSystem.readFile(path) == big)

            let failed = #expect(throws: SystemError.self) {
                try FileSystem.writeAtomically(dir + "/no/such/dir/file", [1])
            }
            #expect(failed?.errno == ENOENT)
            #expect(try FileSystem.listDirectory(dir) == ["checkpoint"])
            try FileSystem.syncDirectory(dir)
        }
    }

    @Test func sizesTimesAndSpace() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/f"
            let before = Clock.wallMillis()
            try FileSystem.writeAtomically(path, [1, 2, 3])
            let after = Clock.wallMillis()
            #expect(try FileSystem.fileSize(path) == 3)
            let mtime = try FileSystem.modificationTimeMillis(path)
            // File-system timestamps come from the coarse kernel clock: allow a few ticks of slack.
            #expect(mtime >= before - 50 && mtime <= after + 50)

            let missing = #expect(throws: SystemError.self) { try FileSystem.fileSize(dir + "/none") }
            #expect(missing?.errno == ENOENT)
            #expect(missing?.operation == "stat")
            #expect(missing?.path == dir + "/none")

            let space = try FileSystem.diskSpace(dir)
            #expect(space.total > 0)
            #expect(space.free >= 0 && space.free <= space.total)
        }
    }

    @Test func clocks() {
        let wall = Clock.wallMillis()
        #expect(wall > 1_600_000_000_000)  // after 2020
        let a = Clock.monotonicNanos()
        let b = Clock.monotonicNanos()
        #expect(b >= a)
    }
}
