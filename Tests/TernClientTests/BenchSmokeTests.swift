import Foundation
import NIOPosix
import TernClient
import TernTestSupport
import Testing

/// Runs the built tern-bench against an in-memory broker: every mode ends, counts add up, JSON parses.
@Suite struct BenchSmokeTests {
    func bench(_ arguments: [String]) throws -> ProcessRun { try runSibling("tern-bench", arguments) }

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

    /// `consume --processes N`: the children split the queues between them, the summary adds their counts up and
    /// reports their drain CPU, offsets are committed; a child left without a queue (5 processes, 4 queues) ends too.
    @Test func consumeWithProcesses() async throws {
        let broker = try await MemoryBroker.start(group: MultiThreadedEventLoopGroup.singleton)
        let common = ["--namesrv", broker.address, "--topic", "PT", "--json"]
        let produce = try bench(["produce"] + common + ["--count", "600", "--size", "100", "--queues", "4"])
        #expect(produce.status == 0, "\(produce.stderr)")

        let consume = try bench(["consume"] + common + ["--group", "G", "--processes", "3"])
        #expect(consume.status == 0, "\(consume.stderr)")
        #expect(consume.json["messages"] as? Int == 600 && consume.json["bytes"] as? Int ?? 0 > 60_000)
        let extra = consume.json["extra"] as? [String: Int] ?? [:]
        #expect(extra["processes"] == 3 && extra["cpuMicros"] != nil)
        let again = try bench(["consume"] + common + ["--group", "G", "--processes", "2"])
        #expect(again.status == 0 && again.json["messages"] as? Int == 0, "\(again.stderr)")

        // A count is shared by the queues each process drains: 600 over 4 queues, one process without a queue.
        let more = try bench(["produce"] + common + ["--count", "600", "--size", "100", "--queues", "4"])
        #expect(more.status == 0, "\(more.stderr)")
        let counted = try bench(["consume"] + common + ["--group", "G", "--processes", "5", "--count", "600"])
        #expect(counted.status == 0, "\(counted.stderr)")
        #expect(counted.json["messages"] as? Int == 600 && counted.json["errors"] as? Int == 0)
        await broker.stop()
    }

    /// Starts `tern-bench floor` on a free port; returns the process and its address.
    func startFloor() throws -> (Process, String) {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let floor = Process()
        floor.executableURL = directory.appendingPathComponent("tern-bench")
        floor.arguments = ["floor", "--port", "0"]
        let out = Pipe()
        floor.standardOutput = out
        try floor.run()
        // Blocks until the ready line or EOF (the child exited): no timing involved.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("floor ready on "), let address = text.split(separator: " ").last else {
            floor.terminate(); floor.waitUntilExit()
            throw FloorDidNotStart(output: text)
        }
        return (floor, address.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The floor answers the producer's set-up (cluster, topic, route) and every send, JSON and binary headers.
    @Test func floorAnswersEverySend() throws {
        let (floor, address) = try startFloor()
        defer { floor.terminate(); floor.waitUntilExit() }
        for header in [[], ["--binary-header"]] {
            let run = try bench(["produce", "--namesrv", address, "--topic", "FT", "--json", "--count", "300", "--size", "100",
                                 "--inflight", "8"] + header)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.json["messages"] as? Int == 300 && run.json["errors"] as? Int == 0)
        }
    }

    /// The floor answers the consumer's set-up (route, no committed offset, min offset) and every pull with FOUND:
    /// the records of a pull are real ones (framing and body CRC checked by the decoder), as many as asked up to
    /// 32, the next offset past them; `consume --processes` drains against it.
    @Test func floorAnswersEveryPull() async throws {
        let (floor, address) = try startFloor()
        defer { floor.terminate(); floor.waitUntilExit() }
        let runtime = ClientRuntime(options: ClientOptions(nameServer: address))
        defer { runtime.shutdown() }
        let consumer = PullConsumer(runtime: runtime, group: "G")
        let queues = try await consumer.queues(topic: "BenchDrain")
        #expect(queues.count == 8)
        #expect(try await consumer.committedOffset(queue: queues[0]) == nil)
        #expect(try await consumer.minOffset(queue: queues[0]) == 0)
        for (asked, offset) in [(32, Int64(0)), (5, Int64(64)), (100, Int64(7))] {
            let r = try await consumer.pull(queue: queues[1], offset: offset, maxNums: asked, decode: true)
            let n = min(asked, 32)
            #expect(r.status == .found && r.messageCount == n && r.nextBeginOffset == offset + Int64(n))
            #expect(r.messages.allSatisfy { $0.body.count == 1024 && $0.topic == "BenchDrain" && $0.uniqueKey != nil })
        }
        let drain = try bench(["consume", "--namesrv", address, "--topic", "BenchDrain", "--json", "--count", "6400",
                               "--processes", "2"])
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(drain.json["messages"] as? Int ?? 0 >= 6400 && drain.json["errors"] as? Int == 0)
    }
}

struct FloorDidNotStart: Error {
    let output: String
}
