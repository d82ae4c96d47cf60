import ArgumentParser
import TernStorage

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Byte-compare two stores' commit logs over the range both hold; name the first differing offset.",
        usage: "tern-inspect compare <store-a> <store-b> [--body-bytes <n>] [--json]",
        discussion: """
            Compares from the higher first offset of the two logs to the shorter one's end (where its records \
            end: zeros or a torn tail), segment by segment on the mapped files: two replicas of one \
            broker must be equal there. Prints the first differing offset and the record holding it on each side. \
            Both stores are locked for the run (stop their brokers first). Exit status: 0 equal, 1 they differ \
            (or share no offset while both hold data), 2 a store cannot be opened.
            """)

    @Argument(help: "The first store directory.") var storeA: String
    @Argument(help: "The second store directory.") var storeB: String
    @Option(help: "Body bytes shown per differing record.") var bodyBytes: Int = 64
    @Flag(help: "Print JSON (sorted keys) instead of text.") var json = false

    func run() throws {
        let a = try OfflineStore.open(root: storeA)
        defer { a.close() }
        let b = try OfflineStore.open(root: storeB)
        defer { b.close() }
        let result = a.compare(with: b, bodyBytes: bodyBytes)
        if json { printJSON(result) } else { printComparison(result) }
        let disjoint = result.from >= result.to && result.a.end > result.a.minOffset && result.b.end > result.b.minOffset
        if !result.isEqual || disjoint { throw ExitCode(1) }
    }
}

func printComparison(_ r: LogComparison) {
    for (name, side) in [("a", r.a), ("b", r.b)] {
        print("\(name): \(side.root): [\(side.minOffset), \(side.end))" + (side.endReason.map { ", ends at an invalid record: \($0)" } ?? ""))
    }
    guard r.from < r.to else { return print("no common range: nothing compared") }
    guard let diff = r.firstDifference else { return print("equal over [\(r.from), \(r.to)): \(r.to - r.from) bytes") }
    print("differ at offset \(diff) (equal over [\(r.from), \(diff)))")
    for (name, side) in [("a", r.a), ("b", r.b)] {
        guard let record = side.record else {
            print("\(name): no valid record holds offset \(diff)")
            continue
        }
        print("\(name): record at \(record.physicalOffset):")
        printDumpEvent(.record(record))
    }
}
