import Foundation
import Testing
import TernStorage
import TernTestSupport

@Suite("tern-inspect dump-index")
struct DumpIndexTests {
    @Test func printsEveryTableRowAndTheJSONMatchesTheLibrary() throws {
        let f = try Fixture(count: 50); defer { f.remove() }
        let text = try runSibling("tern-inspect", [f.root, "dump-index"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("cq ") }.count == f.appended.filter(\.consumable).count)
        #expect(lines.contains { $0.hasPrefix("meta 64657269766174696f6e ") })  // "derivation"
        let json = try runSibling("tern-inspect", [f.root, "dump-index", "--json"])
        let decoded = try JSONDecoder().decode([IndexTableDump].self, from: Data(json.stdout.utf8))
        let s = try f.open(); defer { s.close() }
        #expect(decoded == (try s.dumpIndex()))
        #expect(try s.recordedDerivation() == DerivationConfig.default)
    }
}
