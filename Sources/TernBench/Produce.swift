import ArgumentParser
import Dispatch
import NIOCore
import NIOPosix
import Synchronization
import TernClient

struct Produce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send messages as fast as the in-flight window allows.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Body size in bytes.") var size = 1024
    @Option(help: "Messages to send.") var count: Int?
    @Option(help: "Seconds to send for (default 10 when --count is absent).") var duration: Double?
    @Option(help: "Requests kept in flight.") var inflight = 64
    @Option(help: "Messages per second at a fixed rate (a 1 ms tick sends what is due; --inflight is then ignored), instead of as fast as the window allows.")
    var rate: Int?
    @Option(help: "TCP connections per broker.") var connections = 1
    @Option(help: "Queues per broker when creating the topic.") var queues = 8
    @Flag(help: "Send ROCKETMQ binary headers instead of JSON.") var binaryHeader = false
    @Flag(help: "Use SEND_MESSAGE (10) instead of SEND_MESSAGE_V2 (310).") var v1 = false
    @Flag(name: .customLong("toggle-signing"),
          help: "With --rate and the ACL keys: each SIGUSR1 switches between signed and unsigned sends (benchmarks of ACL's cost).")
    var toggleSigning = false

    func validate() throws {
        _ = try RunLimit(count: count, duration: duration)
        if toggleSigning && (rate == nil || common.accessKey == nil || common.secretKey == nil) {
            throw ValidationError("--toggle-signing needs --rate, --access-key and --secret-key")
        }
        guard size >= 1, inflight >= 1, connections >= 1, queues >= 1, (rate ?? 1) >= 1 else {
            throw ValidationError("--size, --inflight, --rate, --connections and --queues must be positive")
        }
    }

    func run() async throws {
        var options = try common.clientOptions()
        options.connectionsPerAddress = connections
        options.headerEncoding = binaryHeader ? .binary : .json
        // At a fixed rate, one event loop for the tick and the connection (as `e2e`): sends then need no hop to
        // the connection's loop, and a tick's sends leave in one flush.
        let tickGroup = rate == nil ? nil : MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let runtime = ClientRuntime(options: options, group: tickGroup ?? MultiThreadedEventLoopGroup.singleton)
        defer { runtime.shutdown() }
        _ = try await ensureTopic(runtime, topic: common.topic, queues: queues)
        var producerOptions = ProducerOptions()
        producerOptions.group = "tern-bench-producer"
        producerOptions.compressBodyOver = nil  // measure the broker, not zlib
        producerOptions.retries = 0             // a failure is counted, not hidden
        producerOptions.useV2Header = !v1
        let producer = Producer(runtime: runtime, options: producerOptions)
        let signing = toggleSigning ? SigningSwitch(runtime: runtime) : nil

        let stats = BenchStats()
        let progress = progressTask(stats, label: "produce", limit: try RunLimit(count: count, duration: duration))
        let start = NIODeadline.now()
        let cpu = ClientCPU()
        let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
        let limit = try RunLimit(count: count, duration: duration)
        if let rate {
            let total: Int
            switch limit {
            case .count(let n): total = n
            case .duration(let s): total = max(1, Int(Double(rate) * s))
            }
            let listener = signing?.listen { stats.messages }
            defer { listener?.cancel() }
            try await RateSender(producer: producer, topic: common.topic, rate: rate, total: total, size: size, stats: stats,
                                 loop: runtime.group.next()) { _ in body }.run()
        } else {
            try await SendPump(producer: producer, topic: common.topic, body: body, limit: limit, start: start, stats: stats,
                               loop: runtime.group.next()).run(inflight: inflight)
        }
        let seconds = elapsedSeconds(since: start)
        let cpuReport = cpu.report(messages: stats.messages)
        progress.cancel()
        stats.summary(mode: "produce", seconds: seconds, extra: cpuReport)
            .print(json: common.json, latencyLabel: "send latency")
        if let tickGroup {
            runtime.shutdown()
            try await tickGroup.shutdownGracefully()
        }
    }
}

/// Keeps `inflight` sends outstanding: each completion issues the next send from its callback (no task per message).
final class SendPump: Sendable {
    let producer: Producer
    let topic: String
    let body: ByteBuffer
    let limit: RunLimit
    let deadline: NIODeadline
    let stats: BenchStats
    let loop: any EventLoop
    private let issued = Atomic<Int>(0)
    private let active = Atomic<Int>(0)
    private let done: EventLoopPromise<Void>

    init(producer: Producer, topic: String, body: ByteBuffer, limit: RunLimit, start: NIODeadline, stats: BenchStats, loop: any EventLoop) {
        self.producer = producer
        self.topic = topic
        self.body = body
        self.limit = limit
        if case .duration(let s) = limit { deadline = start + .nanoseconds(Int64(s * 1e9)) } else { deadline = .distantFuture }
        self.stats = stats
        self.loop = loop
        self.done = loop.makePromise()
    }

    func run(inflight: Int) async throws {
        active.store(inflight, ordering: .relaxed)
        for _ in 0 ..< inflight { next() }
        try await done.futureResult.get()
    }

    private func next() {
        if case .count(let n) = limit {
            if issued.wrappingAdd(1, ordering: .relaxed).newValue > n { return retire() }
        } else if NIODeadline.now() >= deadline {
            return retire()
        }
        let start = NIODeadline.now()
        let size = body.readableBytes
        producer.sendFuture(topic: topic, body: body).whenComplete { result in
            switch result {
            case .success:
                self.stats.record(latencyMicros: micros(since: start), bytes: size)
                self.next()
            case .failure(let error):
                self.stats.error(error)
                // Failures can complete synchronously: continue later, never recursively, and not in a hot spin.
                self.loop.scheduleTask(in: .milliseconds(10)) { self.next() }
            }
        }
    }

    private func retire() {
        if active.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.succeed(()) }
    }
}
