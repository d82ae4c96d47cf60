import Foundation

/// One line of the results table: a scenario's measured value next to its baseline from the same run.
struct ResultRow: Codable, Sendable {
    var scenario: String
    var metric: String
    var value: Double
    var unit: String
    /// What the value is compared with, measured in the same process run (nil when there is none).
    var baseline: String?
    var baselineValue: Double?
    /// value / baselineValue.
    var ratio: Double?
    /// The issue's target in words, and whether this run met it (nil: report only).
    var target: String?
    var met: Bool?
    /// Extra facts (bytes, counts, recovery report…).
    var notes: String?
}

/// Collects rows and prints them as a table (stdout) or JSON.
final class Report: @unchecked Sendable {
    // @unchecked: rows are appended from the command's own task only.
    private(set) var rows: [ResultRow] = []
    let json: Bool

    init(json: Bool) { self.json = json }

    func add(_ row: ResultRow) {
        rows.append(row)
        if !json { print("  " + Report.line(row)) }
    }

    /// Progress / context lines (stderr in JSON mode so stdout stays parseable).
    func say(_ text: String) {
        if json {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            print(text)
        }
    }

    static func format(_ v: Double) -> String {
        if v >= 100 { return String(format: "%.0f", v) }
        if v >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }

    static func line(_ r: ResultRow) -> String {
        var s = "\(r.scenario) — \(r.metric): \(format(r.value)) \(r.unit)"
        if let b = r.baselineValue, let name = r.baseline { s += " | baseline \(name): \(format(b)) \(r.unit)" }
        if let ratio = r.ratio { s += " | ratio \(String(format: "%.1f", ratio * 100)) %" }
        if let t = r.target { s += " | target \(t): " + (r.met.map { $0 ? "met" : "MISSED" } ?? "report") }
        if let n = r.notes { s += " (\(n))" }
        return s
    }

    /// Markdown table (also what RESULTS.md holds).
    func markdown() -> String {
        var out = "| scenario | metric | result | baseline | ratio | target | met? |\n|---|---|---|---|---|---|---|\n"
        for r in rows {
            let base = r.baselineValue.map { "\(Report.format($0)) \(r.unit) (\(r.baseline ?? ""))" } ?? "—"
            let ratio = r.ratio.map { String(format: "%.1f %%", $0 * 100) } ?? "—"
            let met = r.met.map { $0 ? "yes" : "**no**" } ?? "report"
            out += "| \(r.scenario) | \(r.metric) | \(Report.format(r.value)) \(r.unit) | \(base) | \(ratio) | \(r.target ?? "—") | \(met) |\n"
        }
        return out
    }

    func finish(machine: [String: String]) {
        if json {
            struct Output: Codable { var machine: [String: String]; var results: [ResultRow] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? encoder.encode(Output(machine: machine, results: rows))) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\n" + markdown())
        }
    }
}

/// Facts about the machine, printed with the results.
enum Machine {
    static func describe() -> [String: String] {
        var m: [String: String] = [:]
        m["cpus"] = "\(ProcessInfo.processInfo.activeProcessorCount)"
        m["memoryGiB"] = String(format: "%.1f", Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30))
        m["os"] = ProcessInfo.processInfo.operatingSystemVersionString
        m["date"] = ISO8601DateFormatter().string(from: Date())
        return m
    }
}
