import NIOCore
import Synchronization
import TernClient
import TernProtocol
import TernRemoting

/// Long-polls one queue and records now − send time of each message of this run. Sends its own PULL_MESSAGE
/// (the fields `PullConsumer` sends) so the answer's stage stamps reach `stages` when the broker traces pulls,
/// and issues the next pull from the answer's callback, before anything else.
final class LatencyWatcher: Sendable {
    static let suspendMillis: Int64 = 1000
    let runtime: ClientRuntime
    let address: String
    let group: String
    let queue: MessageQueue
    let runId: UInt64
    let stats: BenchStats
    let stages: StageSplit
    let loop: any EventLoop
    private let offset: Mutex<Int64>

    init(runtime: ClientRuntime, address: String, group: String, queue: MessageQueue, offset: Int64, runId: UInt64,
         stats: BenchStats, stages: StageSplit, loop: any EventLoop) {
        self.runtime = runtime
        self.address = address
        self.group = group
        self.queue = queue
        self.runId = runId
        self.stats = stats
        self.stages = stages
        self.loop = loop
        self.offset = Mutex(offset)
    }

    func start(stop: StopFlag) {
        guard !stop.isSet else { return }
        let request = pullRequest(from: offset.withLock { $0 })
        let timeout = runtime.options.requestTimeout + .milliseconds(Self.suspendMillis)
        runtime.invoke(address, request, timeout: timeout).whenComplete { result in
            let now = NIODeadline.now().uptimeNanoseconds
            do {
                let response = try result.get()
                switch response.code {
                case ResponseCode.success, ResponseCode.pullNotFound, ResponseCode.pullRetryImmediately,
                     ResponseCode.pullOffsetMoved: break
                default: throw ClientError.response(code: response.code, remark: response.remark, address: self.address)
                }
                guard let next = response.extFields.int64("nextBeginOffset") else {
                    throw ClientError.badResponse("pull answer without nextBeginOffset")
                }
                self.offset.withLock { $0 = next }
                self.start(stop: stop)
                // A body that does not decode is counted, not retried: the next pull is already out.
                if response.code == ResponseCode.success {
                    do { try self.record(response, receivedAt: now) } catch { self.stats.error(error) }
                }
            } catch {
                self.stats.error(error)
                self.loop.scheduleTask(in: .milliseconds(100)) { self.start(stop: stop) }
            }
        }
    }

    private func record(_ response: RemotingCommand, receivedAt now: UInt64) throws {
        let stamps = BrokerStamps(response.extFields)
        for m in try RecordDecoder.messages(in: response.body, checkCRC: false) {
            guard let sent = LatencyBody.sendTime(m.body, runId: runId) else { continue }
            stats.record(latencyMicros: (now &- sent) / 1000, bytes: m.body.count)
            if let stamps { stages.record(sent: sent, stamps, receivedAt: now) }
        }
    }

    private func pullRequest(from offset: Int64) -> RemotingCommand {
        var f = RemotingExtFields()
        f["consumerGroup"] = group
        f["topic"] = queue.topic
        f.set("queueId", queue.queueId)
        f.set("queueOffset", offset)
        f.set("maxMsgNums", 64)
        f.set("sysFlag", 4 | 2)  // subscription present, suspend
        f.set("commitOffset", 0)
        f.set("suspendTimeoutMillis", Self.suspendMillis)
        f["subscription"] = "*"
        f.set("subVersion", 0)
        f["expressionType"] = "TAG"
        return RemotingCommand(code: RequestCode.pullMessage, language: runtime.options.language,
                               version: runtime.options.version, extFields: f,
                               serializeType: runtime.options.headerEncoding == .json ? .json : .rocketmq)
    }
}
