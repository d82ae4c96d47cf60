import Foundation
import Testing
import TernStorage
import TernSystem
import TernTestSupport

/// One smoke test of the built binary: argument order, exit statuses, JSON and text output.
@Suite("tern-inspect executable")
struct CommandLineTests {
    /// Runs the tern-inspect built next to the test bundle (the test target depends on it).
    func run(_ arguments: [String]) throws -> ProcessRun { try runSibling("tern-inspect", arguments) }

    @Test func storeFirstUsageExitStatusesAndJSON() throws {
        let f = try Fixture(count: 200); defer { f.remove() }
        let stats = try run([f.root, "stats", "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(json?["messageCount"] as? Int == 200)
        #expect(try run([f.root, "verify"]).stdout.contains("OK: no problems"))

        let victim = f.appended[100]
        try f.flipBodyByte(of: victim)
        let verify = try run([f.root, "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("offset \(victim.result.physicalOffset) damagedRange: "))
        #expect(verify.stdout.contains("body CRC mismatch"))

        let held = try FileLock.acquire(path: f.root + "/lock")
        let locked = try run([f.root, "queues"])
        held.release()
        #expect(locked.status == 2)
        #expect(locked.stderr.contains(f.root + "/lock"))

        let usage = try run([f.root, "find-key", "--key", "k"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("--key needs --topic"))
        #expect(try run(["/tmp/tern-tests/no-such-store", "stats"]).status == 2)
    }

    /// A broker with `storePathCommitLog` keeps its log outside the store: `--commit-log` points there.
    @Test func commitLogOutsideTheStore() throws {
        let f = try Fixture(count: 200); defer { f.remove() }
        let moved = f.root + "-disk2-commitlog"
        defer { try? FileSystem.removeRecursively(moved) }
        #expect(rename(f.root + "/commitlog", moved) == 0)
        let missing = try run([f.root, "stats"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains(f.root + "/commitlog"))
        let stats = try run([f.root, "stats", "--json", "--commit-log", moved])
        #expect(stats.status == 0, "\(stats.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(json?["messageCount"] as? Int == 200)
        #expect(try run([f.root, "verify", "--commit-log", moved]).stdout.contains("OK: no problems"))
    }
}
