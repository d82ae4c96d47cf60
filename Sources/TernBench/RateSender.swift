import NIOCore
import Synchronization
import TernClient

/// Sends `total` messages at `rate` per second: a 1 ms tick sends whatever is due, without waiting for answers.
/// The load is the same whatever the broker or client costs per message (fixed-rate CPU comparisons).
///
/// Bounded: at most `maxInFlight` sends await their answer. When the broker falls behind, due messages wait in
/// the schedule (reported as `scheduleLagMaxUs` and `heldTicks`) instead of piling up in the client's
/// outbound buffer and pending table without limit; and nothing is sent after `stopAfter`, so a run that
/// cannot keep its rate ends on time with fewer messages (`sent` says how many).
final class RateSender: Sendable {
    let producer: Producer
    let topic: String
    let rate: Int
    let total: Int
    let size: Int
    let maxInFlight: Int
    let stopAfter: TimeAmount
    /// The body of a message sent at the given time.
    let body: @Sendable (NIODeadline) -> ByteBuffer
    let stats: BenchStats
    /// Where the answers' time went, when the broker stamps them (nil: not recorded).
    let stages: StageSplit?
    let loop: any EventLoop
    /// Messages handed to the producer (tick only, on `loop`).
    private let issued = Mutex(0)
    private let inFlight = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    /// The number of sends the run ends with, once the schedule stopped (-1 before).
    private let final = Atomic<Int>(-1)
    private let finished = Atomic<Bool>(false)
    private let heldTicks = Atomic<Int>(0)
    private let lagMaxNanos = Atomic<Int64>(0)
    private let done: EventLoopPromise<Void>

    /// `maxInFlight` nil: a tenth of a second of sends (at least 1024).
    init(producer: Producer, topic: String, rate: Int, total: Int, size: Int, stats: BenchStats, loop: any EventLoop,
         maxInFlight: Int? = nil, stopAfter: TimeAmount? = nil, stages: StageSplit? = nil,
         body: @escaping @Sendable (NIODeadline) -> ByteBuffer) {
        self.producer = producer
        self.topic = topic
        self.rate = rate
        self.total = total
        self.size = size
        self.maxInFlight = max(1, maxInFlight ?? max(1024, rate / 10))
        // Default: the schedule's own length plus a second.
        self.stopAfter = stopAfter ?? .nanoseconds(Int64(Double(total) / Double(rate) * 1e9) + 1_000_000_000)
        self.body = body
        self.stats = stats
        self.stages = stages
        self.loop = loop
        self.done = loop.makePromise()
    }

    /// Longest a message waited past its scheduled time (µs), and the ticks that held sends back at the cap.
    var scheduleReport: [String: Int] {
        ["scheduleLagMaxUs": Int(lagMaxNanos.load(ordering: .relaxed) / 1000), "heldTicks": heldTicks.load(ordering: .relaxed)]
    }

    func run() async throws {
        guard total > 0 else { return }
        let start = NIODeadline.now()
        let nanosPerMessage = 1e9 / Double(rate)
        let task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
            let now = NIODeadline.now()
            let elapsed = now - start
            let due = min(self.total, Int(Double(elapsed.nanoseconds) / nanosPerMessage) + 1)
            let (from, to) = self.issued.withLock { n -> (Int, Int) in
                let room = max(0, self.maxInFlight - self.inFlight.load(ordering: .relaxed))
                let to = max(n, min(due, n + room))
                defer { n = to }
                return (n, to)
            }
            if to < due { self.heldTicks.add(1, ordering: .relaxed) }
            if to > from {
                let lag = elapsed.nanoseconds - Int64(Double(from) * nanosPerMessage)
                if lag > self.lagMaxNanos.load(ordering: .relaxed) { self.lagMaxNanos.store(lag, ordering: .relaxed) }
            }
            for _ in from ..< to { self.sendOne() }
            if to >= self.total || elapsed >= self.stopAfter {
                task.cancel()
                self.final.store(to, ordering: .releasing)
                if self.completed.load(ordering: .acquiring) == to { self.finish() }
            }
        }
        try await done.futureResult.get()
        task.cancel()
    }

    private func finish() {
        if !finished.exchange(true, ordering: .acquiringAndReleasing) { done.succeed(()) }
    }

    private func sendOne() {
        let begin = NIODeadline.now()
        inFlight.add(1, ordering: .relaxed)
        producer.send(topic: topic, body: body(begin)) { result in
            self.inFlight.subtract(1, ordering: .relaxed)
            switch result {
            case .success(let sent):
                let now = NIODeadline.now()
                self.stats.record(latencyMicros: UInt64((now - begin).nanoseconds / 1000), bytes: self.size)
                if let stamps = sent.brokerTrace, let stages = self.stages {
                    stages.record(sent: begin.uptimeNanoseconds, stamps, answeredAt: now.uptimeNanoseconds)
                }
            case .failure(let error): self.stats.error(error)
            }
            let n = self.completed.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
            if n == self.final.load(ordering: .acquiring) { self.finish() }
        }
    }
}
