import Foundation
import TernStorage
import TernSystem

/// Scenario 4: restart time of a store with N messages over 1,000 queues — clean (after `close`), after
/// `kill -9` of a child process appending to it, and a full rebuild of the indexes from the log.
enum RestartScenario {
    static func run(report: Report, scratch: Scratch, store options: StoreOptions, messages: Int, queues: Int,
                    killTail: Int) throws {
        let w = Workload(bodySize: 128, queues: queues)
        report.say("restart: building \(messages) messages of \(w.recordSize) B over \(queues) queues")
        let dir = try scratch.path("restart")
        defer { scratch.remove(dir) }
        let build = Stopwatch()
        do {
            let store = try MessageStore.open(options.config(root: dir)).start()
            try w.append(messages, to: store, batch: 32)
            try store.waitForDispatch()
            store.close()
        }
        report.say(String(format: "  built in %.1f s", build.seconds))
        let target = "< 500 ms"

        // Clean restart.
        var clock = Stopwatch()
        var store = try MessageStore.open(options.config(root: dir)).start()
        var millis = clock.millis
        var r = store.recovery
        store.close()
        report.add(ResultRow(scenario: "restart, clean, \(messages) messages", metric: "open", value: millis, unit: "ms",
                             baseline: nil, baselineValue: nil, ratio: nil, target: target, met: millis < 500,
                             notes: "replayed \(r.replayedRecords) records"))

        // kill -9 of a writer: a child process opens the store, appends `killTail` more, and SIGKILLs itself
        // right after its last append, before the dispatcher has caught up.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["fill", "--store", dir, "--messages", "\(killTail)", "--queues", "\(queues)",
                           "--segment-mib", "\(options.segmentMiB)", "--then-kill"]
        try child.run()
        child.waitUntilExit()
        guard child.terminationReason == .uncaughtSignal, child.terminationStatus == SIGKILL else {
            throw BenchError.failed("fill child ended with \(child.terminationReason) \(child.terminationStatus), expected SIGKILL")
        }
        clock = Stopwatch()
        store = try MessageStore.open(options.config(root: dir)).start()
        millis = clock.millis
        r = store.recovery
        let total = try store.queues().values.reduce(0) { $0 + Int($1.max - $1.min) }
        store.close()
        report.add(ResultRow(scenario: "restart after kill -9 (writer appended \(killTail) more)", metric: "open",
                             value: millis, unit: "ms", baseline: nil, baselineValue: nil, ratio: nil,
                             target: target, met: millis < 500,
                             notes: String(format: "replayed tail %d records (%.1f MB) in %.0f ms; tail problem: %@; %d messages indexed",
                                           r.replayedRecords, Double(r.validEnd - r.replayedFrom) / 1e6, r.millis,
                                           r.tailProblem ?? "none", total)))

        // Full rebuild: drop the index directory, open replays the whole log.
        try FileSystem.removeRecursively(options.config(root: dir).indexPath)
        clock = Stopwatch()
        store = try MessageStore.open(options.config(root: dir)).start()
        let seconds = clock.seconds
        r = store.recovery
        store.close()
        report.add(ResultRow(scenario: "rebuild indexes from the log (index dir deleted)", metric: "replay rate",
                             value: Double(r.replayedRecords) / seconds, unit: "msg/s", baseline: nil, baselineValue: nil,
                             ratio: nil, target: "report", met: nil,
                             notes: String(format: "%d records in %.2f s (CRC checked)", r.replayedRecords, seconds)))
    }
}
