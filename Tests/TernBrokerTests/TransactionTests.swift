import Foundation
import NIOCore
import NIOPosix
import Synchronization
@testable import TernBroker
import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport
import Testing

/// Transactional messages (features.md §2) through TernClient's `TransactionProducer` and raw frames.
@Suite struct TransactionTests {
    static let half = QueueKey(topic: TransactionRecords.halfTopic, queueId: 0)

    /// A runtime whose routes for `topics` point straight at the fixture (no name server).
    static func runtime(_ f: BrokerFixture, topics: [String], queues: Int = 4) -> ClientRuntime {
        var options = ClientOptions(nameServer: "127.0.0.1:1")
        options.requestTimeout = .seconds(5)
        let runtime = ClientRuntime(options: options, group: f.group)
        for t in topics { runtime.pinRoute(topic: t, brokerAddress: f.address, queues: queues) }
        return runtime
    }

    /// Every stored message of `topic` (all queues), decoded.
    static func messages(_ f: BrokerFixture, _ topic: String) throws -> [ReceivedMessage] {
        let store = f.broker.store
        _ = store.waitUntilDispatched(store.maxPhysicalOffset)
        var out: [ReceivedMessage] = []
        for (q, range) in try store.queues() where q.topic == topic {
            let r = try store.getMessages(q, from: range.min, maxCount: 1000)
            for m in r.messages { out += try RecordDecoder.messages(in: ByteBuffer(bytes: Array(m.bytes))) }
        }
        return out
    }

    static func state(_ f: BrokerFixture, _ halfOffset: Int64) throws -> TransactionState? {
        _ = f.broker.store.waitUntilDispatched(f.broker.store.maxPhysicalOffset)
        return try f.broker.store.transactionState(halfOffset)
    }

    static func halfOffset(_ r: SendResult) throws -> Int64 {
        try #require(MessageId.decodeOffsetId(r.msgId)).physicalOffset
    }

    @Test func commitMakesTheRealMessageVisible() async throws {
        let f = try await BrokerFixture.start()
        let runtime = Self.runtime(f, topics: ["TX"])
        let producer = TransactionProducer(runtime: runtime, options: { var o = ProducerOptions(); o.group = "PG_TX"; return o }()) { _ in .rollback }
        let visibleDuringLocalTransaction = Mutex<Int>(-1)
        let result = try await producer.send(topic: "TX", body: Array("order-1".utf8), tags: "T1", keys: ["k1"]) { sent in
            visibleDuringLocalTransaction.withLock { $0 = (try? Self.messages(f, "TX").count) ?? -1 }
            return .commit
        }
        #expect(visibleDuringLocalTransaction.withLock { $0 } == 0)
        let half = try Self.halfOffset(result.sendResult)
        // The half message: in the half topic, queue 0, transaction bits NOT, real destination in properties.
        let stored = try #require(Self.messages(f, TransactionRecords.halfTopic).first)
        #expect(stored.physicalOffset == half && stored.queueOffset == result.sendResult.queueOffset)
        #expect(stored.properties["REAL_TOPIC"] == "TX")
        #expect(stored.properties["REAL_QID"] == String(result.sendResult.queueId))
        #expect(stored.sysFlag & SysFlag.transactionMask == 0)

        #expect(await eventually { (try? Self.messages(f, "TX").count) == 1 })
        let real = try #require(Self.messages(f, "TX").first)
        #expect(String(decoding: real.body, as: UTF8.self) == "order-1")
        #expect(real.queueId == result.sendResult.queueId)
        #expect(real.tags == "T1" && real.keys == ["k1"])
        #expect(real.uniqueKey == result.sendResult.uniqueKey)
        #expect(real.properties["TRAN_MSG"] == nil && real.properties["REAL_TOPIC"] == nil && real.properties["REAL_QID"] == nil)
        #expect(real.properties["PGROUP"] == "PG_TX")
        #expect(real.sysFlag & SysFlag.transactionMask == SysFlag.transactionCommit)
        let record = try #require(f.broker.store.message(at: real.physicalOffset))
        #expect(record.record.preparedTransactionOffset == half)
        // The op record is appended after the real message: wait for its dispatch too.
        #expect(await eventually { (try? Self.state(f, half)) == .committed })
        // The op record (Java's shape: tag d, body = half queue offset).
        #expect(await eventually { (try? Self.messages(f, TransactionRecords.opTopic).isEmpty) == false })
        let op = try #require(Self.messages(f, TransactionRecords.opTopic).first)
        #expect(op.tags == "d" && String(decoding: op.body, as: UTF8.self) == String(result.sendResult.queueOffset))
        producer.close()
        runtime.shutdown()
        await f.stop()
    }

    @Test func rollbackDiscardsTheMessage() async throws {
        let f = try await BrokerFixture.start()
        let runtime = Self.runtime(f, topics: ["TX"])
        let producer = TransactionProducer(runtime: runtime) { _ in .commit }
        let result = try await producer.send(topic: "TX", body: [1, 2, 3]) { _ in .rollback }
        let half = try Self.halfOffset(result.sendResult)
        #expect(await eventually { (try? Self.state(f, half)) == .rolledBack })
        #expect(try Self.messages(f, "TX").isEmpty)
        // A thrown local transaction counts as unknown: nothing ends it.
        struct Boom: Error {}
        let other = try await producer.send(topic: "TX", body: [4]) { _ in throw Boom() }
        #expect(other.localState == .unknown)
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(try Self.state(f, try Self.halfOffset(other.sendResult)) == .half)
        #expect(try Self.messages(f, "TX").isEmpty)
        producer.close()
        runtime.shutdown()
        await f.stop()
    }

    @Test func unknownOutcomeIsResolvedByTheCheckBack() async throws {
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let f = try await BrokerFixture.start {
            $0.clock = clock
            $0.transactionCheckInterval = 60_000
            $0.transactionTimeOut = 90_000
        }
        let runtime = Self.runtime(f, topics: ["TX"])
        let checked = Mutex<[ReceivedMessage]>([])
        let producer = TransactionProducer(runtime: runtime) { message in
            checked.withLock { $0.append(message) }
            return .commit
        }
        let result = try await producer.send(topic: "TX", body: Array("later".utf8)) { _ in .unknown }
        let half = try Self.halfOffset(result.sendResult)
        // Not before the transaction timeout (immunity): the first scan, 60 s after the send, checks nothing.
        try await Self.nextCheckScan(f, clock)
        #expect(checked.withLock { $0.isEmpty })
        try await Self.nextCheckScan(f, clock)
        #expect(await eventually(timeoutMillis: 5_000) { (try? Self.messages(f, "TX").count) == 1 })
        let check = try #require(checked.withLock { $0.first })
        #expect(check.topic == "TX" && check.queueId == result.sendResult.queueId)
        #expect(check.properties["PGROUP"] == producer.group)
        #expect(check.uniqueKey == result.sendResult.uniqueKey)
        #expect(await eventually { (try? Self.state(f, half)) == .committed })
        #expect(try f.broker.store.transactionChecks(half) >= 1)
        // Resolved: the next scan checks nothing.
        let n = checked.withLock { $0.count }
        try await Self.nextCheckScan(f, clock)
        #expect(checked.withLock { $0.count } == n)
        #expect(try Self.messages(f, "TX").count == 1)
        producer.close()
        runtime.shutdown()
        await f.stop()
    }

    /// Half message sent with raw frames (C++ style: TRAN_MSG + sysflag prepared), producer group registered by
    /// heartbeat on a connection that records the checks and never answers.
    static func rawHalf(_ f: BrokerFixture, topic: String = "TX", queueId: Int32 = 2, group: String = "PG",
                        on connection: RemotingConnection) async throws -> RemotingCommand {
        let props = SendFrames.properties([("TRAN_MSG", "true"), ("PGROUP", group), ("UNIQ_KEY", "U-\(UUID().uuidString)"),
                                           ("WAIT", "true")])
        var fields = SendFrames.javaFields(topic: topic, queueId: queueId, properties: props, sysFlag: SysFlag.transactionPrepared)
        fields["producerGroup"] = group
        return try await f.call(RequestCode.sendMessage, fields, body: SendFrames.buffer("raw"), on: connection)
    }

    /// One check-back scan: the clock moved by one interval.
    static func nextCheckScan(_ f: BrokerFixture, _ clock: ManualClock) async throws {
        try await f.advance(clock, millis: f.broker.context.config.transactionCheckInterval, runningTimer: "transaction-check")
    }

    @Test func producerThatNeverAnswersIsCheckedUpToTheMaxThenDiscarded() async throws {
        let clock = ManualClock(wallMillis: Clock.wallMillis())
        let f = try await BrokerFixture.start {
            $0.clock = clock
            $0.transactionCheckInterval = 60_000
            $0.transactionTimeOut = 0
            $0.transactionCheckMax = 3
        }
        let recorder = PushRecorder()
        let c = try await RemotingClient.connect(to: f.address, group: f.group, handler: recorder)
        let hb = #"{"clientID":"silent-1","producerDataSet":[{"groupName":"PG"}]}"#
        #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: hb), on: c).code == ResponseCode.success)
        let sent = try await Self.rawHalf(f, on: c)
        #expect(sent.code == ResponseCode.success)
        #expect(sent.extFields["queueId"] == "2")
        let msgId = try #require(sent.extFields["msgId"])
        let half = try #require(MessageId.decodeOffsetId(msgId)).physicalOffset
        func checks() -> [RemotingCommand] { recorder.requests.filter { $0.code == RequestCode.checkTransactionState } }

        // One check per scan, each scan one interval of the clock later; the fourth scan discards. The producer
        // heartbeats before each scan, as a live one does: three intervals exceed the client expiry, whose timer
        // would otherwise race the check scan for the connection.
        for scan in 1...3 {
            #expect(try await f.call(RequestCode.heartBeat, body: ByteBuffer(string: hb), on: c).code == ResponseCode.success)
            try await Self.nextCheckScan(f, clock)
            #expect(await eventually { checks().count == scan })
            #expect(try Self.state(f, half) == .half)
        }
        try await Self.nextCheckScan(f, clock)
        #expect(await eventually { (try? Self.state(f, half)) == .discarded })
        let first = try #require(checks().first)
        #expect(first.isOneway)
        #expect(first.extFields["commitLogOffset"] == String(half))
        #expect(first.extFields["tranStateTableOffset"] == sent.extFields["queueOffset"])
        #expect(first.extFields["offsetMsgId"] == msgId)
        #expect(first.extFields["msgId"]?.hasPrefix("U-") == true && first.extFields["transactionId"] == first.extFields["msgId"])
        let body = try #require(RecordDecoder.messages(in: first.body).first)
        #expect(body.topic == "TX" && body.queueId == 2 && body.properties["PGROUP"] == "PG")
        #expect(try f.broker.store.transactionChecks(half) == 3)
        // Moved to TRANS_CHECK_MAX_TIME_TOPIC; never visible in its topic; a later scan checks nothing.
        let moved = try Self.messages(f, TransactionRecords.discardTopic)
        #expect(moved.count == 1 && moved.first?.properties["REAL_TOPIC"] == "TX")
        #expect(try Self.messages(f, "TX").isEmpty)
        try await Self.nextCheckScan(f, clock)
        #expect(checks().count == 3)
        c.close()
        await f.stop()
    }

    static func endFields(_ sent: RemotingCommand, group: String = "PG", outcome: Int32) throws -> RemotingExtFields {
        let msgId = try #require(sent.extFields["msgId"])
        let half = try #require(MessageId.decodeOffsetId(msgId)).physicalOffset
        var f: RemotingExtFields = ["producerGroup": group, "tranStateTableOffset": sent.extFields["queueOffset"] ?? "",
                                    "fromTransactionCheck": "0", "msgId": "", "transactionId": ""]
        f.set("commitLogOffset", half)
        f.set("commitOrRollback", outcome)
        return f
    }

    @Test func endTransactionChecksGroupOffsetsAndState() async throws {
        let f = try await BrokerFixture.start()
        let c = try await f.connect()
        let sent = try await Self.rawHalf(f, on: c)
        var fields = try Self.endFields(sent, group: "OTHER", outcome: SysFlag.transactionCommit)
        var r = try await f.call(RequestCode.endTransaction, fields, on: c)
        #expect(r.code == ResponseCode.systemError && r.remark?.contains("producer group") == true)
        fields = try Self.endFields(sent, outcome: SysFlag.transactionCommit)
        fields.set("tranStateTableOffset", 99)
        r = try await f.call(RequestCode.endTransaction, fields, on: c)
        #expect(r.code == ResponseCode.systemError && r.remark?.contains("state table offset") == true)
        fields = try Self.endFields(sent, outcome: SysFlag.transactionCommit)
        fields.set("commitLogOffset", 5)
        r = try await f.call(RequestCode.endTransaction, fields, on: c)
        #expect(r.code == ResponseCode.systemError)
        // Unknown (0): ignored, no answer.
        await #expect(throws: (any Error).self) {
            try await f.call(RequestCode.endTransaction, try Self.endFields(sent, outcome: 0), on: c, timeout: .milliseconds(300))
        }
        #expect(try Self.messages(f, "TX").isEmpty)
        // Commit once; a second outcome is refused and stores nothing.
        r = try await f.call(RequestCode.endTransaction, try Self.endFields(sent, outcome: SysFlag.transactionCommit), on: c)
        #expect(r.code == ResponseCode.success)
        r = try await f.call(RequestCode.endTransaction, try Self.endFields(sent, outcome: SysFlag.transactionRollback), on: c)
        #expect(r.code == ResponseCode.systemError && r.remark?.contains("already ended") == true)
        r = try await f.call(RequestCode.endTransaction, try Self.endFields(sent, outcome: SysFlag.transactionCommit), on: c)
        #expect(r.code == ResponseCode.systemError)
        let real = try Self.messages(f, "TX")
        #expect(real.count == 1 && real.first?.queueId == 2)
        // Sysflag alone (no TRAN_MSG) also makes a half message.
        var plain = SendFrames.javaFields(topic: "TX", queueId: 1, properties: SendFrames.properties([("PGROUP", "PG")]),
                                          sysFlag: SysFlag.transactionPrepared)
        r = try await f.call(RequestCode.sendMessage, plain, body: SendFrames.buffer("x"), on: c)
        #expect(r.code == ResponseCode.success && r.extFields["queueId"] == "1")
        #expect(try Self.messages(f, TransactionRecords.halfTopic).count == 2)
        #expect(try Self.messages(f, "TX").count == 1)
        plain["topic"] = TransactionRecords.halfTopic
        r = try await f.call(RequestCode.sendMessage, plain, body: SendFrames.buffer("x"), on: c)
        #expect(r.code == ResponseCode.noPermission)
        c.close()
        await f.stop()
    }

    @Test func rejectTransactionMessageRefusesHalves() async throws {
        let f = try await BrokerFixture.start { $0.rejectTransactionMessage = true }
        let c = try await f.connect()
        let r = try await Self.rawHalf(f, on: c)
        #expect(r.code == ResponseCode.noPermission)
        #expect(try Self.messages(f, TransactionRecords.halfTopic).isEmpty)
        c.close()
        await f.stop()
    }

    /// State is derived from the log: after a restart whose index lost every derived table (what a crash
    /// before any index sync leaves at worst), the open / committed / rolled-back halves are as before, the open
    /// one can still be committed, and committed messages are not duplicated.
    @Test func halfMessageStateIsRebuiltFromTheLog() async throws {
        var f = try await BrokerFixture.start()
        let dir = f.storeDir
        var c = try await f.connect()
        let open = try await Self.rawHalf(f, on: c)
        let committed = try await Self.rawHalf(f, on: c)
        let rolledBack = try await Self.rawHalf(f, on: c)
        #expect(try await f.call(RequestCode.endTransaction, try Self.endFields(committed, outcome: SysFlag.transactionCommit), on: c).code == 0)
        #expect(try await f.call(RequestCode.endTransaction, try Self.endFields(rolledBack, outcome: SysFlag.transactionRollback), on: c).code == 0)
        func offset(_ r: RemotingCommand) throws -> Int64 { try #require(MessageId.decodeOffsetId(r.extFields["msgId"] ?? "")).physicalOffset }
        c.close()
        await f.stop(keepStore: true)

        let index = try LMDBIndexStore(path: dir + "/index")
        try index.clearDerived()
        #expect(try index.transactionState(try offset(open)) == nil)
        index.close()

        f = try await BrokerFixture.start(storeDir: dir)
        #expect(try Self.state(f, try offset(open)) == .half)
        #expect(try Self.state(f, try offset(committed)) == .committed)
        #expect(try Self.state(f, try offset(rolledBack)) == .rolledBack)
        c = try await f.connect()
        #expect(try await f.call(RequestCode.endTransaction, try Self.endFields(committed, outcome: SysFlag.transactionCommit), on: c).code
                == ResponseCode.systemError)
        #expect(try await f.call(RequestCode.endTransaction, try Self.endFields(open, outcome: SysFlag.transactionCommit), on: c).code
                == ResponseCode.success)
        #expect(try Self.messages(f, "TX").count == 2)
        c.close()
        await f.stop()
    }
}
