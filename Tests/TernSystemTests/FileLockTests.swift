import Glibc
import Testing
import TernSystem

@Suite struct FileLockTests {
    @Test func exclusiveWithinOneProcessAndReacquirable() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/lock"
            #expect(!FileLock.isHeld(path: path))  // no file yet

            let lock = try FileLock.acquire(path: path)
            #expect(lock.path == path)
            #expect(FileLock.isHeld(path: path))
            #expect(try FileSystem.readFile(path) == bytes("\(getpid())\n"))

            // flock locks belong to the open file description: a second open in this process conflicts.
            let second = #expect(throws: SystemError.self) { try FileLock.acquire(path: path) }
            #expect(second?.errno == EWOULDBLOCK)
            #expect(second?.operation == "flock")
            // The probe did not steal or drop the lock.
            #expect(FileLock.isHeld(path: path))

            lock.release()
            lock.release()  // idempotent
            #expect(!FileLock.isHeld(path: path))
            #expect(FileSystem.fileExists(path))  // the lock file stays

            let again = try FileLock.acquire(path: path)
            #expect(FileLock.isHeld(path: path))
            again.release()
        }
    }

    @Test func deinitReleases() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/lock"
            do {
                let lock = try FileLock.acquire(path: path)
                #expect(FileLock.isHeld(path: lock.path))
            }
            #expect(!FileLock.isHeld(path: path))
        }
    }

    @Test(.enabled(if: access("/usr/bin/flock", X_OK) == 0, "needs util-linux flock(1)"))
    func heldByAnotherProcess() throws {
        try withTemporaryDirectory { dir throws in
            let path = dir + "/lock"
            // `flock -n <path> sleep 5` holds the lock in a child process.
            let arguments: [String] = ["/usr/bin/flock", "-n", path, "sleep", "5"]
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            try #require(posix_spawn(&pid, "/usr/bin/flock", nil, nil, argv, environ) == 0)
            defer {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            let deadline = Clock.monotonicNanos() + 3_000_000_000
            while !FileLock.isHeld(path: path) && Clock.monotonicNanos() < deadline { usleep(10_000) }
            #expect(FileLock.isHeld(path: path))
            let error = #expect(throws: SystemError.self) { try FileLock.acquire(path: path) }
            #expect(error?.errno == EWOULDBLOCK)
        }
    }
}
