import NIOCore
import Synchronization
import TernClient
import TernProtocol
import TernRemoting

/// Long-polls one queue and records now − send time of each message of this run. Sends `PullConsumer`'s own
/// PULL_MESSAGE and reads the raw answer, so the answer's stage stamps reach `stages` when the broker traces
/// pulls, and issues the next pull from the answer's callback, before anything else.
final class LatencyWatcher: Sendable {
    static let suspendMillis: Int64 = 1000
    let consumer: PullConsumer
    let address: String
    let queue: MessageQueue
    let runId: UInt64
    let stats: BenchStats
    let stages: StageSplit
    let loop: any EventLoop
    private let offset: Mutex<Int64>
    /// This queue's pull, laid out once (a pull per answer).
    private let pulls: PullRequestTemplate

    init(consumer: PullConsumer, address: String, queue: MessageQueue, offset: Int64, runId: UInt64,
         stats: BenchStats, stages: StageSplit, loop: any EventLoop) {
        self.consumer = consumer
        self.address = address
        self.queue = queue
        self.runId = runId
        self.stats = stats
        self.stages = stages
        self.loop = loop
        self.offset = Mutex(offset)
        pulls = consumer.pullRequestTemplate(queue: queue, maxNums: 64, suspendMillis: Self.suspendMillis)
    }

    func start(stop: StopFlag) {
        guard !stop.isSet else { return }
        // Every message before `next` is recorded: committed with the pull, as the Java and C++ push consumers
        // commit their consumed offset (the broker then knows how far this group has read).
        let next = offset.withLock { $0 }
        let request = pulls.request(offset: next, commitOffset: next > 0 ? next : nil)
        consumer.runtime.invoke(address, request, timeout: consumer.pullTimeout(suspendMillis: Self.suspendMillis))
            .whenComplete { result in
                let now = NIODeadline.now().uptimeNanoseconds
                do {
                    let response = try result.get()
                    // Counted, not decoded: the bodies are decoded below without the CRC check.
                    let pulled = try PullConsumer.pullResult(of: response, address: self.address, decode: false)
                    self.offset.withLock { $0 = pulled.nextBeginOffset }
                    self.start(stop: stop)
                    // A body that does not decode is counted, not retried: the next pull is already out.
                    if pulled.status == .found {
                        do { try self.record(response, receivedAt: now) } catch { self.stats.error(error) }
                    }
                } catch {
                    self.stats.error(error)
                    self.loop.scheduleTask(in: .milliseconds(100)) { self.start(stop: stop) }
                }
            }
    }

    /// Reads each record's send time in place: a full decode (properties table, body copy, topic, host and id
    /// strings per message) made this loop the slowest hop at 50 k msg/s.
    private func record(_ response: RemotingCommand, receivedAt now: UInt64) throws {
        let stamps = BrokerStamps(response.extFields)
        try RecordDecoder.forEachBody(in: response.body) { body in
            guard let sent = LatencyBody.sendTime(body, runId: runId) else { return }
            stats.record(latencyMicros: (now &- sent) / 1000, bytes: body.count)
            if let stamps { stages.record(sent: sent, stamps, receivedAt: now) }
        }
    }
}
