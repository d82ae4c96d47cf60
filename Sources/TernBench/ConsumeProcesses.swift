import Foundation

/// `consume --processes N`: N child processes of this executable, child i draining queues i, i + N, … of the
/// topic (`--shard i/N`) on its own connection, so one client process's event loop does not bound the drain.
///
/// Start barrier: each child resolves its queues and offsets, writes "ready" on stdout and waits for a line on
/// stdin; when all are ready the parent writes "go" to every child, so each child's clock starts together and
/// no child's start-up lands in another's measurement. The summary adds the children's counts up; its time is
/// the slowest child's, its latency percentiles the worst child's (histograms are not merged).
struct ConsumeProcesses {
    let count: Int

    /// Child side of the barrier: announces readiness and blocks until the parent says go (or closes stdin).
    static func awaitStart() {
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        _ = readLine()
    }

    func run(json: Bool) throws {
        var children: [(process: Process, input: Pipe, output: Pipe)] = []
        defer { for c in children where c.process.isRunning { c.process.terminate() } }
        let args = Self.childArguments(Array(CommandLine.arguments.dropFirst()))
        for i in 0..<count {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            p.arguments = args + ["--shard", "\(i)/\(count)", "--json"]
            let input = Pipe(), output = Pipe()
            (p.standardInput, p.standardOutput) = (input, output)
            try p.run()
            children.append((p, input, output))
        }
        for (i, c) in children.enumerated() {
            guard Self.line(from: c.output.fileHandleForReading) == "ready" else {
                c.process.waitUntilExit()
                throw ChildFailed(text: "consume process \(i) failed before it was ready (exit \(c.process.terminationStatus))")
            }
        }
        for c in children { c.input.fileHandleForWriting.write(Data("go\n".utf8)) }
        var summaries: [Summary] = []
        for (i, c) in children.enumerated() {
            let rest = c.output.fileHandleForReading.readDataToEndOfFile()
            c.process.waitUntilExit()
            guard c.process.terminationStatus == 0,
                  let last = String(decoding: rest, as: UTF8.self).split(separator: "\n").last,
                  let s = try? JSONDecoder().decode(Summary.self, from: Data(last.utf8)) else {
                throw ChildFailed(text: "consume process \(i) failed (exit \(c.process.terminationStatus))")
            }
            summaries.append(s)
        }
        Self.merged(summaries).print(json: json, latencyLabel: "pull latency (worst process)")
    }

    /// The parent's arguments without `--processes` (and `--json`, which every child gets once).
    static func childArguments(_ args: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--processes" { i += 2; continue }
            if a.hasPrefix("--processes=") || a == "--json" { i += 1; continue }
            out.append(a)
            i += 1
        }
        return out
    }

    static func merged(_ parts: [Summary]) -> Summary {
        let seconds = parts.map(\.seconds).max() ?? 0
        let messages = parts.reduce(0) { $0 + $1.messages }, bytes = parts.reduce(0) { $0 + $1.bytes }
        var extra = ["processes": parts.count]
        if parts.allSatisfy({ $0.extra["cpuMicros"] != nil }) {
            extra["cpuMicros"] = parts.reduce(0) { $0 + ($1.extra["cpuMicros"] ?? 0) }
        }
        return Summary(
            mode: "consume", messages: messages, bytes: bytes, errors: parts.reduce(0) { $0 + $1.errors },
            firstError: parts.lazy.compactMap(\.firstError).first, seconds: seconds,
            msgPerSec: seconds > 0 ? Double(messages) / seconds : 0,
            mbPerSec: seconds > 0 ? Double(bytes) / seconds / 1_048_576 : 0,
            samples: parts.reduce(0) { $0 + $1.samples }, p50Us: parts.map(\.p50Us).max() ?? 0,
            p99Us: parts.map(\.p99Us).max() ?? 0, p999Us: parts.map(\.p999Us).max() ?? 0,
            maxUs: parts.map(\.maxUs).max() ?? 0, extra: extra)
    }

    /// One line (without its newline) read byte by byte, so nothing after it is consumed; nil at end of file.
    private static func line(from handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let d = handle.readData(ofLength: 1)
            guard let b = d.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if b == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(b)
        }
    }
}

struct ChildFailed: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// `--shard i/n`: this process drains queues i, i + n, … of the topic.
struct Shard {
    let index: Int
    let of: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        (index, of) = (i, n)
    }
}
