import Foundation
import NIOConcurrencyHelpers
import NIOCore
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

// Helpers shared by the consumer-side suites, plus the lenient body decoding they rely on.

extension BrokerFixture {
    func createTopic(_ name: String, queues: Int = 4) throws {
        try broker.context.topics.createIfAbsent(name, queueNums: queues)
    }

    /// Appends one message straight to the store (send processing belongs to another module) and waits until
    /// it is indexed.
    @discardableResult
    func put(_ topic: String, queueId: Int32 = 0, tag: String? = nil, body: String = "hello") throws -> AppendResult {
        var props: [(String, String)] = [("UNIQ_KEY", UUID().uuidString)]
        if let tag { props.append(("TAGS", tag)) }
        let draft = MessageDraft(topic: Array(topic.utf8), queueId: queueId, bornTimestamp: Int64(Date().timeIntervalSince1970 * 1000),
                                 bornHost: HostAddress("127.0.0.1:40000")!, storeHost: broker.context.storeHost,
                                 body: Array(body.utf8), properties: MessageProperties.encode(props))
        let r = try broker.store.append(draft)
        #expect(broker.store.waitUntilDispatched(r.endOffset))
        return r
    }

    /// A broker whose log rolls every 64 KiB, with 30 messages of ~3 KB in queue T/0 and the oldest segment
    /// deleted by retention, so that queue no longer starts at offset 0. Returns the queue's new min offset.
    static func startWithTrimmedQueue() async throws -> (BrokerFixture, Int64) {
        let f = try await BrokerFixture.start { c in
            c.mappedFileSizeCommitLog = 64 << 10
            c.maxMessageSize = 4096
        }
        try f.createTopic("T", queues: 1)
        for _ in 0..<30 { try f.put("T", body: String(repeating: "x", count: 3000)) }
        _ = try f.broker.store.runRetention(now: Int64(Date().timeIntervalSince1970 * 1000) + 400 * 3_600_000,
                                                trigger: .init(expired: true, forcibly: false))
        return (f, try f.broker.store.queueRange(QueueKey(topic: "T", queueId: 0))?.min ?? 0)
    }

    /// PULL_MESSAGE as the C++ push consumer sends it (numbers for queueId / maxMsgNums / sysFlag).
    func pull(_ topic: String, queueId: Int32 = 0, offset: Int64, group: String = "CG", sysFlag: Int = 4,
              subscription: String = "*", suspendMillis: Int64 = 15_000, commitOffset: Int64 = 0,
              on connection: RemotingConnection? = nil, timeout: TimeAmount = .seconds(10)) async throws -> RemotingCommand {
        let f = Self.pullFields(topic, queueId: queueId, offset: offset, group: group, sysFlag: sysFlag,
                                subscription: subscription, suspendMillis: suspendMillis, commitOffset: commitOffset)
        return try await call(RequestCode.pullMessage, f, on: connection, timeout: timeout)
    }

    /// Sends a long-polling pull on `connection` and returns once the broker has handled (parked) it: a second
    /// request on the same connection is answered only after the broker's event loop processed the first.
    func suspendedPull(_ topic: String, queueId: Int32 = 0, offset: Int64, subscription: String = "*",
                       suspendMillis: Int64 = 10_000, on connection: RemotingConnection) async throws -> InFlight {
        let f = Self.pullFields(topic, queueId: queueId, offset: offset, group: "CG", sysFlag: 2 | 4,
                                subscription: subscription, suspendMillis: suspendMillis, commitOffset: 0)
        let future: EventLoopFuture<RemotingCommand> = connection.request(RemotingCommand(code: RequestCode.pullMessage, language: .cpp, version: 64, extFields: f),
                                        timeout: .seconds(30))
        _ = try await call(RequestCode.getMaxOffset, ["topic": topic, "queueId": String(queueId)], on: connection)
        return InFlight(future)
    }

    static func pullFields(_ topic: String, queueId: Int32, offset: Int64, group: String, sysFlag: Int, subscription: String,
                           suspendMillis: Int64, commitOffset: Int64) -> RemotingExtFields {
        var f: RemotingExtFields = ["consumerGroup": group, "topic": topic, "subscription": subscription, "subVersion": "0"]
        f.set("queueId", queueId)
        f.set("queueOffset", offset)
        f.set("maxMsgNums", 32)
        f.set("sysFlag", sysFlag)
        f.set("commitOffset", commitOffset)
        f.set("suspendTimeoutMillis", suspendMillis)
        return f
    }

    func heartbeat(clientId: String, group: String = "CG", topics: [String: String] = ["T": "*"], model: Int = 1,
                   on connection: RemotingConnection) async throws -> RemotingCommand {
        try await call(RequestCode.heartBeat, body: ByteBuffer(string: cppHeartbeat(clientId: clientId, group: group, topics: topics, model: model)),
                       on: connection)
    }
}

/// A heartbeat body as C++ 1.2.3 writes it: enum ordinals, subVersion as a string, bogus `codeSet`, no producer set.
func cppHeartbeat(clientId: String, group: String, topics: [String: String], model: Int = 1) -> String {
    let subs = topics.sorted { $0.key < $1.key }.map { topic, expr in
        #"{"codeSet":[0],"subString":"\#(expr)","subVersion":"1700000000000","tagsSet":["\#(expr)"],"topic":"\#(topic)"}"#
    }.joined(separator: ",")
    return #"{"clientID":"\#(clientId)","consumerDataSet":[{"consumeFromWhere":0,"consumeType":1,"groupName":"\#(group)","messageModel":\#(model),"subscriptionDataSet":[\#(subs)]}]}"#
}

/// Records the requests a broker pushes to a client connection.
final class PushRecorder: RemotingRequestHandler {
    private let received = NIOLockedValueBox<[RemotingCommand]>([])
    func handle(_ request: RemotingCommand, responder: RemotingResponder) { received.withLockedValue { $0.append(request) } }
    var requests: [RemotingCommand] { received.withLockedValue { $0 } }
    func notifications(_ group: String) -> Int {
        requests.filter { $0.code == RequestCode.notifyConsumerIdsChanged && $0.extFields["consumerGroup"] == group }.count
    }
}

/// Polls `condition` every 10 ms until it holds or `timeoutMillis` pass.
func eventually(timeoutMillis: Int = 3_000, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(Double(timeoutMillis) / 1000)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// The records of a pull body: (queue offset, TAGS, body text).
func decodeRecords(_ body: ByteBuffer?) -> [(offset: Int64, tag: String?, body: String)] {
    guard let body, let bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes) else { return [] }
    var out: [(Int64, String?, String)] = []
    bytes.withUnsafeBytes { raw in
        var at = 0
        while at + 4 <= raw.count {
            let size = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).bigEndian)
            guard size > 0, at + size <= raw.count else { break }
            let view = RecordView(UnsafeRawBufferPointer(rebasing: raw[at..<(at + size)]))
            let tag = MessageProperties.value(of: "TAGS", in: view.properties).map { String(decoding: $0, as: UTF8.self) }
            out.append((view.queueOffset, tag, String(decoding: view.body, as: UTF8.self)))
            at += size
        }
    }
    return out
}

@Suite struct ConsumerBodyDecodingTests {
    @Test func cppHeartbeatDecodesWithOrdinalsAndStringSubVersion() throws {
        let json = cppHeartbeat(clientId: "1-10.0.0.5@DEFAULT", group: "CG", topics: ["T": "A || B", "%RETRY%CG": "*"], model: 0)
        let h = try JSONBody.decode(HeartbeatData.self, from: ByteBuffer(string: json))
        #expect(h.clientID == "1-10.0.0.5@DEFAULT")
        #expect(h.producerDataSet.isEmpty)
        let c = try #require(h.consumerDataSet.first)
        #expect(c.consumeType == .consumePassively)
        #expect(c.messageModel == .broadcasting)
        let t = try #require(c.subscriptionDataSet.first { $0.topic == "T" })
        #expect(t.subVersion == 1_700_000_000_000)
        #expect(SubscriptionData.tags(of: t.subString) == ["A", "B"])
    }

    @Test func javaHeartbeatDecodesWithEnumNames() throws {
        let json = #"{"clientID":"j","producerDataSet":[{"groupName":"PG"}],"consumerDataSet":[{"groupName":"G","consumeType":"CONSUME_ACTIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{"topic":"T","subString":"*","subVersion":42,"expressionType":"TAG","classFilterMode":false}],"unitMode":false}]}"#
        let h = try JSONBody.decode(HeartbeatData.self, from: ByteBuffer(string: json))
        #expect(h.producerDataSet == [ProducerData(groupName: "PG")])
        let c = try #require(h.consumerDataSet.first)
        #expect(c.consumeType == .consumeActively)
        #expect(c.consumeFromWhere == .firstOffset)
        #expect(c.subscriptionDataSet.first?.subVersion == 42)
        // Our own encoding (Java names) decodes back to the same value.
        let again = try JSONBody.decode(HeartbeatData.self, from: JSONBody.encode(h))
        #expect(again.consumerDataSet == h.consumerDataSet)
    }

    @Test func tagFilterUsesJavaHashCodes() {
        #expect(TagFilter(subString: "*").codes == nil)
        #expect(TagFilter(subString: "  ").codes == nil)
        let f = TagFilter(subString: "TagA || TagB ||")
        #expect(f.codes == [Int64(TagHash.javaHashCode("TagA")), Int64(TagHash.javaHashCode("TagB"))])
        #expect(f.predicate?(Int64(TagHash.javaHashCode("TagC"))) == false)
    }

    @Test func lockBodyAcceptsNumericAndStringQueueIds() throws {
        let json = #"{"consumerGroup":"G","clientId":"C","mqSet":[{"topic":"T","brokerName":"b","queueId":1},{"topic":"T","brokerName":"b","queueId":"2"}]}"#
        let b = try JSONBody.decode(LockBatchRequestBody.self, from: ByteBuffer(string: json))
        #expect(b.mqSet.map(\.queueId) == [1, 2])
    }
}

/// A request in flight; `isDone` tells whether its answer came back yet.
final class InFlight: Sendable {
    private let done = NIOLockedValueBox(false)
    private let future: EventLoopFuture<RemotingCommand>

    init(_ future: EventLoopFuture<RemotingCommand>) {
        self.future = future
        let done = self.done
        future.whenComplete { _ in done.withLockedValue { $0 = true } }
    }

    var isDone: Bool { done.withLockedValue { $0 } }
    var value: RemotingCommand { get async throws { try await future.get() } }
}
