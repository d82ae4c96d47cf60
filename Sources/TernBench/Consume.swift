import TernProtocol
import ArgumentParser
import NIOCore
import Synchronization
import TernClient

struct Consume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drain every queue of a topic from the group's committed offset (or the queue's min offset).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Consumer group (offsets are committed at the end).") var group = "tern-bench-consumer"
    @Option(help: "Stop after this many messages.") var count: Int?
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(help: "Messages per pull.") var batch = 32
    @Option(help: "With --count or --duration: give up after this many seconds without a message.") var idleTimeout = 10.0
    @Option(help: "Client processes, each draining its share of the queues (one connection each), started together; the summary adds them up (latency percentiles: the worst process's).")
    var processes = 1
    @Option(help: .hidden) var shard: String?

    func validate() throws {
        if count != nil || duration != nil { _ = try RunLimit(count: count, duration: duration) }
        guard batch >= 1 else { throw ValidationError("--batch must be positive") }
        guard processes >= 1 else { throw ValidationError("--processes must be positive") }
        if let shard, Shard(shard) == nil { throw ValidationError("--shard must be i/n with 0 <= i < n") }
    }

    func run() async throws {
        if processes > 1, shard == nil {
            return try ConsumeProcesses(count: processes).run(json: common.json)
        }
        let runtime = ClientRuntime(options: try common.clientOptions())
        defer { runtime.shutdown() }
        let consumer = PullConsumer(runtime: runtime, group: group)
        var queues = try await consumer.queues(topic: common.topic)
        var count = self.count
        if let shard = shard.flatMap({ Shard($0) }) {
            let all = queues.count
            queues = queues.enumerated().filter { $0.offset % shard.of == shard.index }.map(\.element)
            // A share of the count as large as this process's share of the queues (a backlog spread evenly).
            count = queues.isEmpty ? nil : count.map { n in (n * queues.count + all - 1) / max(1, all) }
        }
        var starts: [Int64] = []
        for q in queues {
            if let committed = try await consumer.committedOffset(queue: q) { starts.append(committed) }
            else { starts.append(try await consumer.minOffset(queue: q)) }
        }
        let limit: RunLimit? = (count != nil || duration != nil) ? try RunLimit(count: count, duration: duration) : nil
        if shard != nil { ConsumeProcesses.awaitStart() }
        let stats = BenchStats()
        let progress = progressTask(stats, label: "consume", limit: limit)
        let cpu0 = processCPUMicros()
        let start = NIODeadline.now()
        let pump = PullPump(consumer: consumer, queues: queues, starts: starts, batch: batch, limit: limit, start: start,
                            idleTimeout: .nanoseconds(Int64(idleTimeout * 1e9)), stats: stats, loop: runtime.group.next())
        let finals = try await pump.run()
        let seconds = elapsedSeconds(since: start)
        // This process's CPU during the drain alone (start-up and the offset commits excluded).
        var cpu: Int? = nil
        if let cpu0, let cpu1 = processCPUMicros() { cpu = cpu1 - cpu0 }
        progress.cancel()
        for (q, offset) in zip(queues, finals) {
            do { try await consumer.commitOffset(queue: q, offset: offset) } catch { stats.error(error) }
        }
        stats.summary(mode: "consume", seconds: seconds, extra: cpu.map { ["cpuMicros": $0] } ?? [:])
            .print(json: common.json, latencyLabel: "pull latency")
    }
}

/// One pull loop per queue, all running at once; each pull's completion issues the queue's next pull.
/// Without a limit a queue stops at its first NO_NEW_MSG; with one, idle queues long-poll until the limit.
final class PullPump: Sendable {
    let consumer: PullConsumer
    let queues: [MessageQueue]
    let batch: Int
    let limit: RunLimit?
    let deadline: NIODeadline
    let idleTimeout: TimeAmount
    let stats: BenchStats
    let loop: any EventLoop
    private let offsets: Mutex<[Int64]>
    private let active = Atomic<Int>(0)
    private let done: EventLoopPromise<[Int64]>

    init(consumer: PullConsumer, queues: [MessageQueue], starts: [Int64], batch: Int, limit: RunLimit?, start: NIODeadline,
         idleTimeout: TimeAmount, stats: BenchStats, loop: any EventLoop) {
        self.consumer = consumer
        self.queues = queues
        self.batch = batch
        self.limit = limit
        if case .duration(let s)? = limit { deadline = start + .nanoseconds(Int64(s * 1e9)) } else { deadline = .distantFuture }
        self.idleTimeout = idleTimeout
        self.stats = stats
        self.loop = loop
        self.offsets = Mutex(starts)
        self.done = loop.makePromise()
    }

    /// Completes with each queue's next offset.
    func run() async throws -> [Int64] {
        if queues.isEmpty { done.succeed([]) }  // a process left without a queue (more processes than queues)
        active.store(queues.count, ordering: .relaxed)
        for i in queues.indices { pull(i, suspend: false) }
        return try await done.futureResult.get()
    }

    private func finished() -> Bool {
        switch limit {
        case .count(let n)?: return stats.messages >= n || NIODeadline.now() - stats.lastActivity > idleTimeout
        case .duration?: return NIODeadline.now() >= deadline
        case nil: return false
        }
    }

    private func pull(_ i: Int, suspend: Bool) {
        if finished() { return retire() }
        let offset = offsets.withLock { $0[i] }
        let start = NIODeadline.now()
        consumer.pullFuture(queue: queues[i], offset: offset, maxNums: batch, suspendMillis: suspend ? 1000 : 0, decode: false)
            .whenComplete { result in
                switch result {
                case .success(let r):
                    self.offsets.withLock { $0[i] = r.nextBeginOffset }
                    if r.messageCount > 0 {
                        self.stats.record(latencyMicros: micros(since: start), messages: r.messageCount, bytes: r.bodyBytes)
                    }
                    if r.status == .noNewMessage {
                        if self.limit == nil { return self.retire() }
                        self.pull(i, suspend: true)
                    } else {
                        self.pull(i, suspend: false)
                    }
                case .failure(let error):
                    self.stats.error(error)
                    // Give up on a broker that keeps failing rather than spin forever.
                    if self.stats.snapshot.errors > 50 { return self.retire() }
                    self.loop.scheduleTask(in: .milliseconds(100)) { self.pull(i, suspend: false) }
                }
            }
    }

    private func retire() {
        if active.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            done.succeed(offsets.withLock { $0 })
        }
    }
}
