import Foundation
import NIOPosix
import Testing

/// Runs the built tern-bench against an in-memory broker: every mode ends, counts add up, JSON parses.
@Suite struct BenchSmokeTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:] }
    }

    func bench(_ arguments: [String]) throws -> Run {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = directory.appendingPathComponent("tern-bench")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no tern-bench at \(binary.path)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func produceConsumeAndEndToEnd() async throws {
        let broker = try await MemoryBroker.start(group: MultiThreadedEventLoopGroup.singleton)
        let common = ["--namesrv", broker.address, "--topic", "BT", "--json"]

        let produce = try bench(["produce"] + common + ["--count", "500", "--size", "100", "--inflight", "16", "--queues", "4", "--binary-header"])
        #expect(produce.status == 0, "\(produce.stderr)")
        #expect(produce.json["messages"] as? Int == 500 && produce.json["errors"] as? Int == 0)
        #expect(produce.json["bytes"] as? Int == 50_000)
        #expect((produce.json["p50Us"] as? Int ?? 0) > 0)
        #expect(broker.messageCount(topic: "BT") == 500)

        let consume = try bench(["consume"] + common + ["--group", "G"])
        #expect(consume.status == 0, "\(consume.stderr)")
        #expect(consume.json["messages"] as? Int == 500)
        // Offsets were committed: a second run finds nothing new.
        let again = try bench(["consume"] + common + ["--group", "G"])
        #expect(again.json["messages"] as? Int == 0)

        let e2e = try bench(["e2e"] + common + ["--rate", "200", "--duration", "1", "--queues", "4", "--grace", "3"])
        #expect(e2e.status == 0, "\(e2e.stderr)")
        let extra = e2e.json["extra"] as? [String: Int] ?? [:]
        #expect(extra["sent"] == 200 && extra["received"] == 200 && extra["lost"] == 0)
        #expect((e2e.json["p99Us"] as? Int ?? 0) > 0)

        let bad = try bench(["produce", "--namesrv", "127.0.0.1:1", "--topic", "BT", "--count", "1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("name server 127.0.0.1:1 unreachable"))
        await broker.stop()
    }
}
