import ArgumentParser
import Foundation
import Glibc  // raise(SIGKILL) for the kill -9 child: the one C call outside TernSystem, benchmark-only
import TernStorage

@main
struct TernStorageBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern-storage-bench",
        abstract: "Storage engine benchmarks: each scenario next to its raw baseline, measured in the same run.",
        subcommands: [All.self, Append.self, Sync.self, Read.self, Restart.self, Memory.self, Fill.self]
    )
}

struct CommonOptions: ParsableArguments {
    @Option(help: "Parent directory for the stores (removed afterwards).") var dir: String = "/tmp"
    @Flag(help: "Print results as JSON on stdout (progress goes to stderr).") var json = false
    @Flag(help: "Keep the store directories.") var keep = false
    @Option(help: "Commit-log segment size in MiB.") var segmentMib: Int = 1024
    @Flag(inversion: .prefixedNo, help: "Prefault the next segment ahead of the writer.") var prefault = true

    @Flag(help: "Write the prefaulted log pages back ahead of the writer (StoreConfig.warmMappedFile).") var warm = false

    @Flag(help: "Write records into the log with pwrite instead of through the mapping (StoreConfig.writeThrough).")
    var writeThrough = false

    var store: StoreOptions {
        StoreOptions(segmentMiB: segmentMib, prefault: prefault, warm: warm, writeThrough: writeThrough)
    }

    func run(_ body: (Report, Scratch) async throws -> Void) async throws {
        let report = Report(json: json)
        let scratch = try Scratch(parent: dir, keep: keep)
        defer { scratch.cleanUp() }
        try await body(report, scratch)
        report.finish(machine: Machine.describe())
    }
}

struct All: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every scenario (defaults finish in a few minutes).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages for the append scenario at 128 B (1 KiB / 4 KiB get the same byte volume).")
    var appendMessages: Int = 2_000_000
    @Option(help: "Messages in the read scenario's store.") var readMessages: Int = 1_000_000
    @Option(help: "Messages in the restart and memory scenarios' stores (the issue's full size: 10000000).")
    var messages: Int = 1_000_000
    @Option(help: "Seconds of the sync-flush scenario and of its baseline.") var syncSeconds: Double = 3

    func run() async throws {
        try await common.run { report, scratch in
            try MemoryScenario.run(report: report, scratch: scratch, store: common.store, messages: messages, queues: 1000)
            try AppendScenario.run(report: report, scratch: scratch, store: common.store, messages: appendMessages,
                                   bodySizes: [128, 1024, 4096], queues: 8, batch: 32, uniqueKeys: false)
            try await SyncScenario.run(report: report, scratch: scratch, store: common.store, seconds: syncSeconds,
                                       appenders: 64, bodySize: 1024)
            try ReadScenario.run(report: report, scratch: scratch, store: common.store, messages: readMessages,
                                 queues: 8, rounds: 3)
            try RestartScenario.run(report: report, scratch: scratch, store: common.store, messages: messages,
                                    queues: 1000, killTail: max(1, messages / 10))
        }
    }
}

struct Append: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Append throughput (async flush, indexes on) vs memcpy + LMDB MDB_APPEND.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages at 128 B (larger bodies get the same byte volume).") var messages: Int = 2_000_000
    @Option(parsing: .upToNextOption, help: "Body sizes in bytes.") var bodySizes: [Int] = [128, 1024, 4096]
    @Option(help: "Queues the messages are spread over.") var queues: Int = 8
    @Option(help: "Also measure append(batch:) with this many drafts per call (1: off).") var batch: Int = 32
    @Flag(help: "Give every message a UNIQ_KEY property (indexed), as RocketMQ clients do.") var uniqueKeys = false

    func run() async throws {
        try await common.run { report, scratch in
            try AppendScenario.run(report: report, scratch: scratch, store: common.store, messages: messages,
                                   bodySizes: bodySizes, queues: queues, batch: batch, uniqueKeys: uniqueKeys)
        }
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sync flush with group commit vs write + fdatasync.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Seconds for the store and for each baseline.") var seconds: Double = 3
    @Option(help: "Concurrent appenders (tasks).") var appenders: Int = 64
    @Option(help: "Body size in bytes.") var bodySize: Int = 1024

    func run() async throws {
        try await common.run { report, scratch in
            try await SyncScenario.run(report: report, scratch: scratch, store: common.store, seconds: seconds,
                                       appenders: appenders, bodySize: bodySize)
        }
    }
}

struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "message(at:) and getMessages from a warm map vs RecordScanner.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages in the store.") var messages: Int = 1_000_000
    @Option(help: "Queues the messages are spread over.") var queues: Int = 8
    @Option(help: "Timed rounds (best is reported).") var rounds: Int = 3

    func run() async throws {
        try await common.run { report, scratch in
            try ReadScenario.run(report: report, scratch: scratch, store: common.store, messages: messages,
                                 queues: queues, rounds: rounds)
        }
    }
}

struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Open time: clean, after kill -9 of a writer, and a full index rebuild.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages in the store (the issue's full size: 10000000).") var messages: Int = 1_000_000
    @Option(help: "Queues.") var queues: Int = 1000
    @Option(help: "Messages the killed writer appends (default: messages / 10).") var killTail: Int?

    func run() async throws {
        try await common.run { report, scratch in
            try RestartScenario.run(report: report, scratch: scratch, store: common.store, messages: messages,
                                    queues: queues, killTail: killTail ?? max(1, messages / 10))
        }
    }
}

struct Memory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "RSS (VmRSS, RssAnon, RssFile) while appending.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages to append (the issue's full size: 10000000).") var messages: Int = 1_000_000
    @Option(help: "Queues.") var queues: Int = 1000

    func run() async throws {
        try await common.run { report, scratch in
            try MemoryScenario.run(report: report, scratch: scratch, store: common.store, messages: messages, queues: queues)
        }
    }
}

/// Child process of the restart scenario: appends to an existing store, then kills itself with SIGKILL.
struct Fill: ParsableCommand {
    static let configuration = CommandConfiguration(shouldDisplay: false)
    @Option var store: String
    @Option var messages: Int
    @Option var queues: Int = 1000
    @Option var segmentMib: Int = 1024
    @Flag var thenKill = false

    func run() throws {
        let s = try MessageStore.open(StoreOptions(segmentMiB: segmentMib).config(root: store)).start()
        let w = Workload(bodySize: 128, queues: queues, seed: 7)
        for i in 0..<messages { _ = try s.append(w.draft(i)) }
        if thenKill { raise(SIGKILL) }
        try s.waitForDispatch()
        s.close()
    }
}
