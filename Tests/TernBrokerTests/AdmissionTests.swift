import Foundation
import NIOCore
import Synchronization
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// The admission chain: gates in order per request code, first refusal wins, rewrites reach the processor;
/// and flow control's bounded send-back executor behind it.
@Suite struct AdmissionTests {
    /// Records what it saw, then answers `verdict`.
    final class Probe: AdmissionGate {
        let codes: Set<Int>?
        let verdict: AdmissionDecision
        let name: String
        let seen: Log
        init(_ name: String, codes: Set<Int>?, verdict: AdmissionDecision = .admit, log: Log) {
            self.name = name
            self.codes = codes
            self.verdict = verdict
            self.seen = log
        }
        func admit(_ request: inout AdmissionRequest, nowNanos: UInt64) -> AdmissionDecision {
            seen.append("\(name):\(request.code):\(request.topic ?? "-"):\(request.group ?? "-"):\(request.remoteAddress)")
            request.extFields["seenBy"] = (request.extFields["seenBy"] ?? "") + name
            return verdict
        }
    }

    final class Log: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    private static func request(_ code: Int, _ fields: RemotingExtFields) -> AdmissionRequest {
        AdmissionRequest(code: code, extFields: fields, remoteAddress: "10.0.0.1:5000", arrivalNanos: 0)
    }

    @Test func gatesRunInOrderPerCodeAndTheFirstRefusalWins() {
        let log = Log()
        let chain = AdmissionChain([
            Probe("acl", codes: nil, log: log),
            Probe("send", codes: [RequestCode.sendMessageV2], verdict: .refuse(code: 2, remark: "no"), log: log),
            Probe("pull", codes: [RequestCode.pullMessage], log: log),
            Probe("never", codes: [RequestCode.sendMessageV2], log: log),
        ], knownCodes: [RequestCode.sendMessageV2, RequestCode.pullMessage, RequestCode.heartBeat])

        var send = Self.request(RequestCode.sendMessageV2, ["a": "PG", "b": "Orders"])
        #expect(chain.admit(&send, nowNanos: 0) == .refuse(code: 2, remark: "no"))
        var pull = Self.request(RequestCode.pullMessage, ["consumerGroup": "CG", "topic": "Orders"])
        #expect(chain.admit(&pull, nowNanos: 0) == .admit)
        #expect(pull.extFields["seenBy"] == "aclpull", "a gate's rewrite is what the next gate and the processor see")
        var heartbeat = Self.request(RequestCode.heartBeat, [:])
        #expect(chain.admit(&heartbeat, nowNanos: 0) == .admit)
        #expect(!chain.isOpen(for: RequestCode.heartBeat))
        #expect(log.all == [
            "acl:\(RequestCode.sendMessageV2):Orders:PG:10.0.0.1:5000", "send:\(RequestCode.sendMessageV2):Orders:PG:10.0.0.1:5000",
            "acl:\(RequestCode.pullMessage):Orders:CG:10.0.0.1:5000", "pull:\(RequestCode.pullMessage):Orders:CG:10.0.0.1:5000",
            "acl:\(RequestCode.heartBeat):-:-:10.0.0.1:5000",
        ])
        let flowOnly = AdmissionChain([Probe("pull", codes: [RequestCode.pullMessage], log: log)],
                                      knownCodes: [RequestCode.pullMessage, RequestCode.heartBeat])
        #expect(flowOnly.isOpen(for: RequestCode.heartBeat))
        #expect(!flowOnly.isOpen(for: RequestCode.pullMessage))
    }

    /// The send-back executor's queue full → `[OVERLOAD]` (SYSTEM_BUSY, not stored); every send-back answered
    /// SUCCESS is in the dead-letter queue.
    @Test func fullSendBackQueueAnswersOverloadAndEveryAcknowledgedSendBackIsStored() async throws {
        let f = try await BrokerFixture.start { c in
            c.flow.sendBackQueueCapacity = 2
            c.flow.brokerFastFailureEnable = false
        }
        try f.createTopic("T", queues: 1)
        var fields = SendFrames.javaFields(topic: "T")
        fields.set("reconsumeTimes", 0)
        let sent = try await f.call(RequestCode.sendMessage, fields, body: SendFrames.buffer("again"))
        let offset = try #require(sent.extFields["msgId"].flatMap(MessageId.decodeOffsetId)).physicalOffset
        f.broker.context.flow.simulatedSendBackDelayMillis.store(300, ordering: .relaxed)

        let c = try await f.connect()
        let total = 10
        let answers = try await withThrowingTaskGroup(of: RemotingCommand.self) { tasks in
            for _ in 0..<total {
                tasks.addTask {
                    var back: RemotingExtFields = ["group": "G"]
                    back.set("offset", offset)
                    back.set("delayLevel", -1)
                    return try await c.request(RemotingCommand(code: RequestCode.consumerSendMsgBack, language: .java,
                                                               version: 400, extFields: back), timeout: .seconds(10))
                }
            }
            var all: [RemotingCommand] = []
            for try await r in tasks { all.append(r) }
            return all
        }
        c.close()
        let acknowledged = answers.filter { $0.code == ResponseCode.success }.count
        let overloaded = answers.filter { $0.code == ResponseCode.systemBusy && $0.remark?.hasPrefix("[OVERLOAD]") == true }
        #expect(acknowledged + overloaded.count == total, "\(answers.map { ($0.code, $0.remark ?? "") })")
        #expect(overloaded.count >= 1)
        #expect(acknowledged >= 2, "the queue holds two besides the one running")
        #expect(f.broker.context.flow.overloaded.load(ordering: .relaxed) == overloaded.count)

        let dlq = QueueKey(topic: "%DLQ%G", queueId: 0)
        #expect(await eventually(timeoutMillis: 5_000) {
            ((try? f.broker.store.queueRange(dlq))??.max ?? 0) >= Int64(acknowledged)
        })
        #expect(f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset))
        let stored = try f.broker.store.entries(dlq, from: 0, maxCount: 100)
        #expect(stored.count == acknowledged)
        await f.stop()
    }
}
