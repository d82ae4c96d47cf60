import Foundation
import Testing
import TernStorage
import TernSystem
import TernTestSupport

/// `tern-inspect compare`: two copies of one store's log (a replica is a byte copy at the same offsets).
@Suite struct CompareTests {
    /// A byte copy of `f`'s store (log, index, config), as a slave holds it.
    static func copy(_ f: Fixture) throws -> String {
        let dest = f.root + "-copy"
        try FileManager.default.copyItem(atPath: f.root, toPath: dest)
        try? FileManager.default.removeItem(atPath: dest + "/lock")
        return dest
    }

    static func open(_ root: String) throws -> OfflineStore {
        var options = OfflineStore.Options()
        options.lmdbMapSize = 1 << 30
        return try OfflineStore.open(root: root, options: options)
    }

    static func compare(_ a: String, _ b: String) throws -> LogComparison {
        let sa = try open(a), sb = try open(b)
        defer { sa.close(); sb.close() }
        return sa.compare(with: sb)
    }

    @Test func equalCopiesCompareEqualOverTheWholeLog() throws {
        let f = try Fixture(count: 300); defer { f.remove() }
        let b = try Self.copy(f); defer { try? FileSystem.removeRecursively(b) }
        let r = try Self.compare(f.root, b)
        #expect(r.isEqual && r.from == 0 && r.to == f.validEnd && r.a.end == f.validEnd && r.b.end == f.validEnd)
        #expect(r.a.record == nil && r.a.endReason == nil)
    }

    /// One byte changed in the middle of a record of the second segment: that offset, and the record holding it
    /// on each side (the changed one with a bad CRC).
    @Test func namesTheFirstDifferingOffsetAndItsRecord() throws {
        let f = try Fixture(count: 2_400); defer { f.remove() }  // three segments
        let b = try Self.copy(f); defer { try? FileSystem.removeRecursively(b) }
        let victim = f.record(inSegment: 1)
        let offset = victim.result.physicalOffset + 88 + 3
        try Fixture.overwriteLog(root: b, at: offset, with: [0xFF])
        try Fixture.overwriteLog(root: b, at: f.record(inSegment: 2).result.physicalOffset + 100, with: [0xFF])  // later: not named

        let r = try Self.compare(f.root, b)
        #expect(r.firstDifference == offset && r.to == f.validEnd)
        #expect(r.a.record?.physicalOffset == victim.result.physicalOffset && r.a.record?.bodyCRCValid == true)
        #expect(r.b.record?.physicalOffset == victim.result.physicalOffset && r.b.record?.bodyCRCValid == false)
    }

    /// A log that ends earlier (a slave behind its master) equals the longer one up to its end; a difference past
    /// that end is not one.
    @Test func aShorterLogIsComparedUpToItsEnd() throws {
        let f = try Fixture(count: 1_200); defer { f.remove() }
        let b = try Self.copy(f); defer { try? FileSystem.removeRecursively(b) }
        let cut = f.record(inSegment: 1).result.physicalOffset
        try Fixture.overwriteLog(root: b, at: cut, with: [UInt8](repeating: 0, count: Int(f.segmentSize - cut % f.segmentSize)))
        for name in try FileManager.default.contentsOfDirectory(atPath: b + "/commitlog")
            where (Segment.base(fromFileName: name) ?? 0) > cut {
            try FileManager.default.removeItem(atPath: b + "/commitlog/" + name)
        }
        try f.overwriteLog(at: cut + 10, with: [0xEE])

        let r = try Self.compare(f.root, b)
        #expect(r.isEqual && r.b.end == cut && r.to == cut && r.a.end == f.validEnd)
        let reversed = try Self.compare(b, f.root)
        #expect(reversed.isEqual && reversed.to == cut)
    }

    /// The executable: exit status 0 equal, 1 differ (with the offset in the text), 2 a missing store.
    @Test func executableExitStatuses() throws {
        let f = try Fixture(count: 200); defer { f.remove() }
        let b = try Self.copy(f); defer { try? FileSystem.removeRecursively(b) }
        let same = try runSibling("tern-inspect", ["compare", f.root, b])
        #expect(same.status == 0 && same.stdout.contains("equal over [0, \(f.validEnd))"), "\(same.stdout) \(same.stderr)")
        let offset = f.appended[120].result.physicalOffset + 95
        try Fixture.overwriteLog(root: b, at: offset, with: [0x01])
        let differ = try runSibling("tern-inspect", ["compare", f.root, b, "--json"])
        #expect(differ.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(differ.stdout.utf8)) as? [String: Any]
        #expect(json?["firstDifference"] as? Int == Int(offset))
        #expect(try runSibling("tern-inspect", ["compare", f.root, "/tmp/tern-tests/no-such-store"]).status == 2)
    }
}
