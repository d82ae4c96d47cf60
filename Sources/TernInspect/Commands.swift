import ArgumentParser
import TernStorage
import TernSystem

/// The root command: only dispatches to a subcommand.
struct TernInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern-inspect",
        abstract: "Inspect, verify and repair the index of a Tern store offline.",
        usage: "tern-inspect <store-dir> <command> [options]",
        discussion: """
            The store must not be in use: tern-inspect takes the store's lock file (<store-dir>/lock) for its \
            whole run, so a broker cannot start meanwhile, and refuses a store a broker holds. Only \
            rebuild-index writes, and only to the index (<store-dir>/index); consumer offsets are kept.

            Every command accepts --json (JSON with sorted keys; dump prints one JSON object per line).

            Exit status: 0 ok; 1 verify found problems, compare found a difference, or rebuild-index met damaged \
            records or a torn tail; 2 usage error, or the store cannot be opened (missing, locked, inconsistent segments) or read.
            """,
        subcommands: [Stats.self, Dump.self, Verify.self, Queues.self, FindKey.self, RebuildIndex.self, DumpIndex.self,
                      Compare.self]
    )
}

/// The store directory (first argument) and the options every command shares.
struct StoreOptions: ParsableArguments {
    @Argument(help: "The store directory (the broker's store root, holding commitlog/ and index/).")
    var storeDir: String

    @Flag(help: "Print JSON (sorted keys) instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Largest record size accepted while scanning.",
                               discussion: "Default: segment size - 8."))
    var maxRecordSize: Int?

    @Option(help: ArgumentHelp("The commit log's directory, when the broker keeps it outside the store (storePathCommitLog).",
                               discussion: "Default: <store-dir>/commitlog."))
    var commitLog: String?

    func open(indexAccess: OfflineStore.Options.IndexAccess = .readOnly) throws -> OfflineStore {
        var options = OfflineStore.Options()
        options.indexAccess = indexAccess
        options.maxRecordSize = maxRecordSize
        options.commitLogDirectory = commitLog
        return try OfflineStore.open(root: storeDir, options: options)
    }

    /// Opens the store, computes `body`'s result, prints it as JSON or with `text`, closes the store.
    @discardableResult
    func show<T: Encodable>(indexAccess: OfflineStore.Options.IndexAccess = .readOnly,
                            _ body: (OfflineStore) throws -> T, text: (T) -> Void) throws -> T {
        let store = try open(indexAccess: indexAccess)
        defer { store.close() }
        let value = try body(store)
        if json { printJSON(value) } else { text(value) }
        return value
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Segments, messages, valid log end, index checkpoint, unindexed tail and table sizes.",
        usage: "tern-inspect <store-dir> stats [--json]")

    @OptionGroup var store: StoreOptions

    func run() throws {
        try store.show({ try $0.stats() }, text: printStats)
    }
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print records with their headers, properties and a body preview (like Kafka's DumpLogSegments).",
        usage: "tern-inspect <store-dir> dump [--topic <topic>] [--from <offset>] [--to <offset>] [--limit <n>] "
            + "[--body-bytes <n>] [--json]")

    @OptionGroup var store: StoreOptions
    @Option(help: "Only records of this topic.") var topic: String?
    @Option(help: "First physical offset (inclusive).") var from: Int64 = 0
    @Option(help: "Last physical offset (exclusive).") var to: Int64 = .max
    @Option(help: "Most records printed.") var limit: Int = .max
    @Option(help: "Body bytes shown per record.") var bodyBytes: Int = 64

    func validate() throws {
        guard from >= 0, to > from else { throw ValidationError("--from must be >= 0 and below --to") }
        guard limit > 0, bodyBytes >= 0 else { throw ValidationError("--limit must be positive, --body-bytes >= 0") }
    }

    func run() throws {
        let s = try store.open()
        defer { s.close() }
        var filter = DumpFilter()
        filter.topic = topic
        filter.fromOffset = from
        filter.toOffset = to
        filter.limit = limit
        filter.bodyBytes = bodyBytes
        let summary = s.dump(filter) { event in
            if store.json { printJSONLine(DumpLine(event)) } else { printDumpEvent(event) }
        }
        if store.json { return printJSONLine(DumpLine(summary: summary)) }
        print("\(summary.recordsShown) records shown (\(summary.recordsInRange) in the offset range), "
            + "\(summary.invalidRecords.count) invalid")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record's CRC and cross-check the index against the log both ways.",
        usage: "tern-inspect <store-dir> verify [--max-problems <n>] [--json]",
        discussion: "Exits 1 when a problem is found; each problem is printed with its physical offset.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Most problems listed (all are counted).") var maxProblems: Int = 1_000

    func run() throws {
        let line = TerminalProgress()
        let report = try store.show({ s in
            defer { line.finish() }
            return try s.verify(maxProblems: maxProblems) { line.update("verify: " + describe($0)) }
        }, text: printVerify)
        if !report.isClean { throw ExitCode(1) }
    }
}

struct Queues: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Consume queues with their min and max offsets and message counts.",
        usage: "tern-inspect <store-dir> queues [--json]")

    @OptionGroup var store: StoreOptions

    func run() throws {
        try store.show({ try $0.queues() }, text: printQueues)
    }
}

struct FindKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-key",
        abstract: "Find messages by key (with --topic), by unique key (client message id), or by offset message id.",
        usage: "tern-inspect <store-dir> find-key (--topic <topic> --key <key> | --unique-key <id> | --msg-id <id>) "
            + "[--limit <n>] [--json]")

    @OptionGroup var store: StoreOptions
    @Option(help: "Topic of --key.") var topic: String?
    @Option(help: "A value of the KEYS property.") var key: String?
    @Option(help: "The UNIQ_KEY property (client message id).") var uniqueKey: String?
    @Option(help: "An offset message id (32 hex digits: store host + physical offset).") var msgId: String?
    @Option(help: "Most messages printed, newest first.") var limit: Int = 32
    @Option(help: "Body bytes shown per record.") var bodyBytes: Int = 64

    func validate() throws {
        guard [key, uniqueKey, msgId].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --key, --unique-key, --msg-id")
        }
        if key != nil, topic == nil { throw ValidationError("--key needs --topic") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        try store.show({ s in
            if let key, let topic { return try s.find(topic: topic, key: key, limit: limit, bodyBytes: bodyBytes) }
            if let uniqueKey { return try s.find(uniqueKey: uniqueKey, limit: limit, bodyBytes: bodyBytes) }
            return try s.find(offsetMessageId: msgId ?? "", bodyBytes: bodyBytes).map { [$0] } ?? []
        }, text: { found in
            for r in found { printDumpEvent(.record(r)) }
            print("\(found.count) message\(found.count == 1 ? "" : "s") found")
        })
    }
}

struct RebuildIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-index",
        abstract: "Delete the derived index state and rebuild it from the log (consumer offsets are kept).",
        usage: "tern-inspect <store-dir> rebuild-index [--batch-size <n>] [--progress-every <n>] [--json]",
        discussion: """
            Steps over damage in the middle of the log (those records are lost and listed) and stops at a torn \
            tail, where the broker's recovery truncates the log; exits 1 in both cases. \
            Progress is shown on stderr when it is a terminal.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Records per index transaction.") var batchSize: Int = 8_192
    @Option(help: "Update the progress line every this many records (and at least every second).")
    var progressEvery: Int = 100_000

    func validate() throws {
        guard batchSize > 0, progressEvery > 0 else {
            throw ValidationError("--batch-size and --progress-every must be positive")
        }
    }

    func run() throws {
        let report = try store.show(indexAccess: .readWrite, { s in
            if let aside = s.corruptIndexMovedTo {
                printError("rebuild-index: the index was corrupt; moved to \(aside), consumer offsets restored from "
                    + "config/consumerOffset.json")
            }
            let line = TerminalProgress()
            defer { line.finish() }
            return try s.rebuildIndex(batchSize: batchSize, progressEvery: progressEvery) { line.update("rebuild-index: " + describe($0)) }
        }, text: printRebuild)
        if report.invalidRecord != nil || !report.damagedRanges.isEmpty { throw ExitCode(1) }
    }
}

struct DumpIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-index",
        abstract: "Print every index table's exact contents: \"<table> <key hex> <value hex>\" per entry, in key order.",
        usage: "tern-inspect <store-dir> dump-index [--json]",
        discussion: "Two stores with equal dumps hold identical indexes (the index is a function of the log and "
            + "the derivation config recorded in its meta table).")

    @OptionGroup var store: StoreOptions

    func run() throws {
        try store.show({ try $0.dumpIndex() }, text: { tables in
            for t in tables { for row in t.rows { print(t.table + " " + row) } }
        })
    }
}
