import TernProtocol
import ArgumentParser
import NIOCore
import NIOPosix
import Synchronization
import TernClient

struct EndToEnd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Send at a fixed rate with the send time in the body; long-polling consumers measure send→receive latency.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Messages per second.") var rate = 1000
    @Option(help: "Seconds to send for.") var duration = 10.0
    @Option(help: "Body size in bytes (at least 24).") var size = 128
    @Option(help: "Queues per broker when creating the topic.") var queues = 8
    @Option(help: "Seconds to wait for stragglers after the last send.") var grace = 5.0
    @Option(help: "Most sends awaiting their answer (default: a tenth of a second of --rate, at least 1024); due sends wait beyond it.")
    var maxInFlight: Int?

    func validate() throws {
        guard rate >= 1, duration > 0, queues >= 1, (maxInFlight ?? 1) >= 1 else {
            throw ValidationError("--rate, --duration, --queues and --max-in-flight must be positive")
        }
    }

    func run() async throws {
        // Producer and consumer as separate clients (their own connection and event loop), as in a deployment:
        // pull answers then never queue behind sends on one socket or one loop, and the send tick runs on the
        // producer connection's loop (no hop per send).
        let producerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let consumerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let options = try common.clientOptions()
        let runtime = ClientRuntime(options: options, group: producerGroup)
        let consumerRuntime = ClientRuntime(options: options, group: consumerGroup)
        let route = try await ensureTopic(runtime, topic: common.topic, queues: queues)
        var producerOptions = ProducerOptions()
        producerOptions.group = "tern-bench-e2e"
        producerOptions.compressBodyOver = nil
        // A timed-out send is counted, not resent: a resend is a second message and more load on a broker
        // already behind.
        producerOptions.retries = 0
        let producer = Producer(runtime: runtime, options: producerOptions)
        let consumer = PullConsumer(runtime: consumerRuntime, group: "tern-bench-e2e")
        // Start after everything already stored, so only this run's messages are seen.
        var starts: [Int64] = []
        for q in route.readQueues { starts.append(try await consumer.maxOffset(queue: q)) }

        let runId = UInt64.random(in: 1 ... UInt64.max)
        let received = BenchStats()
        let sendStats = BenchStats()
        let loop = producerGroup.next()
        let planned = Int(Double(rate) * duration)
        let stages = StageSplit.delivery(expected: planned)
        let sendStages = StageSplit.send(expected: planned)
        let watchers = try route.readQueues.indices.map { i in
            let queue = route.readQueues[i]
            guard let address = route.masterAddress(of: queue.brokerName) else { throw ClientError.noMasterAddress(queue.brokerName) }
            return LatencyWatcher(consumer: consumer, address: address, queue: queue, offset: starts[i], runId: runId,
                                  stats: received, stages: stages, loop: consumerGroup.next())
        }
        let stopFlag = StopFlag()
        for w in watchers { w.start(stop: stopFlag) }

        let progress = progressTask(received, label: "e2e received", limit: .duration(seconds: duration))
        let start = NIODeadline.now()
        let cpu = ClientCPU()
        let total = planned
        let bodySize = max(24, size)
        let sender = RateSender(producer: producer, topic: common.topic, rate: rate, total: total, size: bodySize,
                                stats: sendStats, loop: loop, maxInFlight: maxInFlight, stages: sendStages) {
            LatencyBody.make(size: bodySize, runId: runId, now: $0.uptimeNanoseconds)
        }
        try await sender.run()
        let sent = sendStats.snapshot.messages
        let graceEnd = NIODeadline.now() + .nanoseconds(Int64(grace * 1e9))
        while received.messages < sent && NIODeadline.now() < graceEnd {
            try await Task.sleep(for: .milliseconds(50))
        }
        let seconds = elapsedSeconds(since: start)
        // Sends, their answers and the watchers' pulls of the same messages: the client's whole cost per message.
        let cpuReport = cpu.report(messages: sent)
        stopFlag.set()
        progress.cancel()
        let r = received.snapshot.messages
        var summary = received.summary(mode: "e2e", seconds: seconds, extra: [
            "sent": sent, "sendErrors": sendStats.snapshot.errors, "received": r, "lost": max(0, sent - r),
            "planned": total,
        ].merging(sender.scheduleReport) { a, _ in a }.merging(cpuReport) { a, _ in a })
        summary.errors += sendStats.snapshot.errors
        let send = sendStats.summary(mode: "send", seconds: seconds)
        summary.extra["sendAckP50Us"] = Int(send.p50Us)
        summary.extra["sendAckP99Us"] = Int(send.p99Us)
        let split = stages.report(), sendSplit = sendStages.report()
        if common.json { for (k, v) in split.values + sendSplit.values { summary.extra[k] = v } }
        summary.print(json: common.json, latencyLabel: "end-to-end latency")
        if !common.json { print(split.text + "\n" + sendSplit.text) }
        runtime.shutdown()
        consumerRuntime.shutdown()
        try await producerGroup.shutdownGracefully()
        try await consumerGroup.shutdownGracefully()
        if r < sent { throw ExitCode(2) }
    }
}

/// Body: magic(8) | run id(8) | send time, monotonic ns(8) | padding.
enum LatencyBody {
    static let magic: UInt64 = 0x5445_524E_4532_4531  // "TERNE2E1"

    static func make(size: Int, runId: UInt64, now: UInt64) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(size)
        b.writeInteger(magic)
        b.writeInteger(runId)
        b.writeInteger(now)
        b.writeRepeatingByte(UInt8(ascii: "."), count: size - 24)
        return b
    }

    /// The send time, if `body` is one of this run's messages.
    static func sendTime(_ body: UnsafeRawBufferPointer, runId: UInt64) -> UInt64? {
        guard body.count >= 24 else { return nil }
        func word(_ at: Int) -> UInt64 { UInt64(bigEndian: body.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard word(0) == magic, word(8) == runId else { return nil }
        return word(16)
    }
}

final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
