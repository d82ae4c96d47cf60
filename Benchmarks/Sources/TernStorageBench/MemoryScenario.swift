import Foundation
import Synchronization
import TernStorage
import TernSystem

/// Scenario 5: resident memory while appending (async flush, indexes on), sampled from /proc/self/status.
enum MemoryScenario {
    struct Sample: Sendable {
        var vmRSS = 0, rssAnon = 0, rssFile = 0  // KiB
        mutating func peak(_ o: Sample) {
            vmRSS = max(vmRSS, o.vmRSS); rssAnon = max(rssAnon, o.rssAnon); rssFile = max(rssFile, o.rssFile)
        }
    }

    static func read() -> Sample {
        var s = Sample()
        guard let bytes = try? FileSystem.readFile("/proc/self/status") else { return s }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
            switch parts[0] {
            case "VmRSS:": s.vmRSS = kb
            case "RssAnon:": s.rssAnon = kb
            case "RssFile:": s.rssFile = kb
            default: break
            }
        }
        return s
    }

    static func run(report: Report, scratch: Scratch, store options: StoreOptions, messages: Int, queues: Int) throws {
        let w = Workload(bodySize: 128, queues: queues)
        report.say("memory: \(messages) messages of \(w.recordSize) B over \(queues) queues")
        let dir = try scratch.path("memory")
        defer { scratch.remove(dir) }
        let before = read()
        let store = try MessageStore.open(options.config(root: dir)).start()
        let opened = read()
        let peak = Mutex(opened)
        let running = Atomic<Bool>(true)
        let sampler = Thread {
            while running.load(ordering: .acquiring) {
                let s = read()
                peak.withLock { $0.peak(s) }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        sampler.start()
        let clock = Stopwatch()
        for i in 0..<messages { _ = try store.append(w.draft(i)) }
        try store.waitForDispatch()
        let seconds = clock.seconds
        let end = read()
        running.store(false, ordering: .releasing)
        Thread.sleep(forTimeInterval: 0.05)
        let bytes = store.maxPhysicalOffset
        store.close()
        let p = peak.withLock { $0 }
        let mib = { (kb: Int) in Double(kb) / 1024 }
        let scenario = "memory while appending \(messages) × \(w.recordSize) B"
        report.add(ResultRow(scenario: scenario, metric: "peak RssAnon", value: mib(p.rssAnon), unit: "MiB",
                             baseline: "RssAnon after open", baselineValue: mib(opened.rssAnon), ratio: nil,
                             target: "bounded", met: nil,
                             notes: String(format: "before open %.0f MiB, at end %.0f MiB; %.0f msg/s",
                                           mib(before.rssAnon), mib(end.rssAnon), Double(messages) / seconds)))
        report.add(ResultRow(scenario: scenario, metric: "peak RssFile", value: mib(p.rssFile), unit: "MiB",
                             baseline: "RssFile after open", baselineValue: mib(opened.rssFile), ratio: nil,
                             target: "report", met: nil,
                             notes: String(format: "log %.0f MiB written; mapped segment pages count here (page cache, reclaimable)",
                                           Double(bytes) / 1_048_576)))
        report.add(ResultRow(scenario: scenario, metric: "peak VmRSS", value: mib(p.vmRSS), unit: "MiB",
                             baseline: nil, baselineValue: nil, ratio: nil, target: "report", met: nil, notes: nil))
    }
}
