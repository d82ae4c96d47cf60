import Foundation
import NIOCore
@testable import TernBroker
import TernClient
import TernProtocol
import TernRemoting
import TernSecurity
import TernStorage
import TernTransport
import Testing

/// A broker with `aclEnable=true`: signed requests from the right account pass, everything else is answered
/// NO_PERMISSION before any processor runs (nothing stored, no flow limit changed).
@Suite struct AclGateTests {
    static let acl = """
        accounts:
          - accessKey: producer1
            secretKey: producer-secret
            defaultTopicPerm: DENY
            topicPerms: [Orders=PUB]
          - accessKey: consumer1
            secretKey: consumer-secret
            defaultGroupPerm: SUB
            topicPerms: [Orders=SUB]
          - accessKey: operator1
            secretKey: operator-secret
            admin: true

        """

    static func start(_ text: String = acl, admitUnsigned: Bool = false) async throws -> BrokerFixture {
        let path = NSTemporaryDirectory() + "tern-acl-\(UUID().uuidString).yml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try await BrokerFixture.start { config in
            config.aclEnable = true
            config.aclFilePath = path
            // Through the broker.conf parser, so the key's spelling is tested too.
            if admitUnsigned {
                _ = try? config.set("aclBenchmarkUnsignedEnable", "true")
                if !config.aclBenchmarkUnsignedEnable { Issue.record("aclBenchmarkUnsignedEnable not applied") }
            }
        }
    }

    static func signed(_ fields: RemotingExtFields, _ key: String, _ secret: String, body: ByteBuffer?) -> RemotingExtFields {
        var fields = fields
        AclSigner.sign(&fields, body: body, accessKey: key, secretKey: secret)
        return fields
    }

    func send(_ f: BrokerFixture, topic: String = "Orders", key: String?, secret: String) async throws -> RemotingCommand {
        let body = SendFrames.buffer("hello")
        var fields = SendFrames.shortFields(topic: topic, queueId: 0, properties: SendFrames.properties([]))
        if let key { fields = Self.signed(fields, key, secret, body: body) }
        return try await f.call(RequestCode.sendMessageV2, fields, body: body)
    }

    @Test func onlyTheRightSignedAccountStores() async throws {
        let f = try await Self.start()
        let unsigned = try await send(f, key: nil, secret: "")
        #expect(unsigned.code == ResponseCode.noPermission)
        #expect(unsigned.remark == "No accessKey is configured")
        let wrong = try await send(f, key: "producer1", secret: "not-the-secret")
        #expect(wrong.code == ResponseCode.noPermission)
        #expect(wrong.remark == "Check signature failed for accessKey=producer1")
        let unknown = try await send(f, key: "stranger", secret: "producer-secret")
        #expect(unknown.remark == "No acl config for stranger")
        let subOnly = try await send(f, key: "consumer1", secret: "consumer-secret")
        #expect(subOnly.code == ResponseCode.noPermission)
        #expect(subOnly.remark == "No PUB permission for topic Orders, accessKey=consumer1")
        let otherTopic = try await send(f, topic: "Payments", key: "producer1", secret: "producer-secret")
        #expect(otherTopic.code == ResponseCode.noPermission)
        #expect(f.broker.store.maxPhysicalOffset == 0, "a refused send stored something")

        let good = try await send(f, key: "producer1", secret: "producer-secret")
        #expect(good.code == ResponseCode.success, "\(good.remark ?? "")")
        #expect(try SendFrames.stored(f.broker.store, "Orders", 0).count == 1)

        // The consumer may pull what the producer may not.
        let pull = Self.signed(["consumerGroup": "CG", "topic": "Orders", "queueId": "0", "queueOffset": "0",
                                "maxMsgNums": "32", "sysFlag": "0", "commitOffset": "0", "suspendTimeoutMillis": "0",
                                "subscription": "*", "subVersion": "0"], "consumer1", "consumer-secret", body: nil)
        let pulled = try await f.call(RequestCode.pullMessage, pull)
        // Admitted: the pull processor answers (no subscription registered yet), not the ACL.
        #expect(pulled.code != ResponseCode.noPermission, "\(pulled.remark ?? "")")
        let producerPull = Self.signed(pull.filter { $0.key != "Signature" && $0.key != "AccessKey" }
            .reduce(into: RemotingExtFields()) { $0[$1.key] = $1.value }, "producer1", "producer-secret", body: nil)
        #expect(try await f.call(RequestCode.pullMessage, producerPull).code == ResponseCode.noPermission)
        await f.stop()
    }

    /// The benchmark-only key admits requests that carry no AccessKey; anything signed is still verified in full.
    @Test func benchmarkKeyAdmitsUnsignedButStillChecksSigned() async throws {
        let f = try await Self.start(admitUnsigned: true)
        #expect(try await send(f, key: nil, secret: "").code == ResponseCode.success)
        let stored = f.broker.store.maxPhysicalOffset
        #expect(stored > 0)
        #expect(try await send(f, key: "producer1", secret: "not-the-secret").remark
                == "Check signature failed for accessKey=producer1")
        #expect(try await send(f, key: "consumer1", secret: "consumer-secret").code == ResponseCode.noPermission)
        #expect(f.broker.store.maxPhysicalOffset == stored, "a refused signed send stored something")
        #expect(try await send(f, key: "producer1", secret: "producer-secret").code == ResponseCode.success)
        await f.stop()
    }

    /// A runtime with credentials signs every request; `setSigning(false)` sends them unsigned on the same
    /// connection (benchmarks of ACL's cost), `true` signs again.
    @Test func clientSigningPausesAndResumes() async throws {
        let f = try await Self.start()
        var options = ClientOptions(nameServer: "127.0.0.1:1")
        options.credentials = AclCredentials(accessKey: "producer1", secretKey: "producer-secret")
        let runtime = ClientRuntime(options: options)
        defer { runtime.shutdown() }
        let fields = SendFrames.shortFields(topic: "Orders", queueId: 0, properties: SendFrames.properties([]))
        func send() async throws -> RemotingCommand {
            try await runtime.invoke("127.0.0.1:\(f.broker.port)", RemotingCommand(
                code: RequestCode.sendMessageV2, extFields: fields, body: SendFrames.buffer("hello"))).get()
        }
        #expect(try await send().code == ResponseCode.success)
        runtime.setSigning(false)
        #expect(try await send().remark == "No accessKey is configured")
        runtime.setSigning(true)
        #expect(try await send().code == ResponseCode.success)
        await f.stop()
    }

    @Test func adminCodesNeedAnAdminAccount() async throws {
        let f = try await Self.start()
        let limit: RemotingExtFields = ["kind": "defaultTopicRate", "value": "1"]
        for (key, secret) in [("producer1", "producer-secret"), ("bogus-key", "bogus-secret")] {
            let r = try await f.call(FlowRequestCode.setFlowLimit, Self.signed(limit, key, secret, body: nil))
            #expect(r.code == ResponseCode.noPermission, "\(key): \(r.remark ?? "")")
            let delete = try await f.call(AdminRequestCode.deleteTopicInBroker, Self.signed(["topic": "Orders"], key, secret, body: nil))
            #expect(delete.code == ResponseCode.noPermission)
            let resend = try await f.call(DeadLetterRequestCode.resendDeadLetters,
                                          Self.signed(["consumerGroup": "CG"], key, secret, body: nil))
            #expect(resend.code == ResponseCode.noPermission)
        }
        let normal = try await f.call(AdminRequestCode.deleteTopicInBroker,
                                      Self.signed(["topic": "Orders"], "producer1", "producer-secret", body: nil))
        #expect(normal.remark == "Need admin permission for request code=215, but accessKey=producer1 is not")
        #expect(f.broker.context.flow.topicLimiter.snapshot.defaultRate == 0)

        let admin = try await f.call(FlowRequestCode.setFlowLimit, Self.signed(limit, "operator1", "operator-secret", body: nil))
        #expect(admin.code == ResponseCode.success, "\(admin.remark ?? "")")
        #expect(f.broker.context.flow.topicLimiter.snapshot.defaultRate == 1)
        await f.stop()
    }

    /// Random and truncated signatures, pipelined 200 at a time on 10 connections at once: every one refused,
    /// nothing stored (each connection is served 16 refusals per pause, see below).
    @Test func hostileSignaturesNeverReachAProcessor() async throws {
        let f = try await Self.start()
        let body = SendFrames.buffer("hello")
        let good = Self.signed(SendFrames.shortFields(topic: "Orders", queueId: 0, properties: SendFrames.properties([])),
                               "producer1", "producer-secret", body: body)
        let signature = Array(good["Signature"]!)
        let connections = 10, perConnection = 1_000, batch = 200
        let refused = try await withThrowingTaskGroup(of: Int.self) { flooders in
            for _ in 0..<connections {
                flooders.addTask {
                    let connection = try await f.connect()
                    defer { connection.close() }
                    var rng = SystemRandomNumberGenerator(), refused = 0
                    for start in stride(from: 0, to: perConnection, by: batch) {
                        try await withThrowingTaskGroup(of: Int.self) { group in
                            for i in start..<start + batch {
                                var fields = good
                                switch i % 3 {
                                case 0: fields["Signature"] = String(signature.prefix(Int.random(in: 0..<signature.count, using: &rng)))
                                case 1: fields["Signature"] = String((0..<28).map { _ in signature.randomElement(using: &rng)! })
                                default: fields["Signature"] = String(signature.dropLast()) + (signature.last == "A" ? "B" : "A")
                                }
                                let request = RemotingCommand(code: RequestCode.sendMessageV2, language: .cpp, version: 64,
                                                              extFields: fields, body: body)
                                group.addTask { try await connection.request(request, timeout: .seconds(60)).code }
                            }
                            for try await code in group where code == ResponseCode.noPermission { refused += 1 }
                        }
                    }
                    return refused
                }
            }
            return try await flooders.reduce(0, +)
        }
        #expect(refused == connections * perConnection)
        #expect(f.broker.store.maxPhysicalOffset == 0)
        await f.stop()
    }

    /// Every 16 consecutive refusals on one connection pause it for a doubling delay (1, 2, 4 … ms); every
    /// request is still answered, and an admitted request is served normally after them.
    @Test func aConnectionRefusedAgainAndAgainIsReadMoreSlowly() async throws {
        let f = try await Self.start()
        let connection = try await f.connect()
        let body = SendFrames.buffer("hello")
        let fields = SendFrames.shortFields(topic: "Orders", queueId: 0, properties: SendFrames.properties([]))
        var forged = Self.signed(fields, "producer1", "producer-secret", body: body)
        forged["Signature"] = "AAAA"
        let start = ContinuousClock.now
        for _ in 0..<(8 * RefusalBackoff.threshold) {
            #expect(try await f.call(RequestCode.sendMessageV2, forged, body: body, on: connection).code
                    == ResponseCode.noPermission)
        }
        // Pauses after refusals 16, 32, … 112 were waited: 1 + 2 + … + 64 ms.
        #expect(ContinuousClock.now - start >= .milliseconds(127))
        let signed = Self.signed(fields, "producer1", "producer-secret", body: body)
        #expect(try await f.call(RequestCode.sendMessageV2, signed, body: body, on: connection).code == ResponseCode.success)
        connection.close()
        #expect(f.broker.store.maxPhysicalOffset > 0)
        await f.stop()
    }

    @Test func accountsReloadWhenTheFileChanges() async throws {
        let f = try await Self.start()
        #expect(try await send(f, key: "producer2", secret: "second-secret").code == ResponseCode.noPermission)
        let path = try #require(f.broker.context.config.aclFilePath)
        let acl = try #require(f.broker.acl)
        let start = acl.reloadCounts
        try (Self.acl + "  - {accessKey: producer2, secretKey: second-secret, topicPerms: [Orders=PUB]}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        // The reload timer polls every second.
        #expect(await eventually(timeoutMillis: 30_000) { acl.reloadCounts.reloaded > start.reloaded })
        #expect(try await send(f, key: "producer2", secret: "second-secret").code == ResponseCode.success)
        // A broken file keeps the accounts in force: wait until the reload timer has seen and refused it.
        let loaded = acl.reloadCounts
        try "accounts: [".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(await eventually(timeoutMillis: 30_000) { acl.reloadCounts.rejected > loaded.rejected })
        #expect(acl.reloadCounts.reloaded == loaded.reloaded)
        #expect(try await send(f, key: "producer2", secret: "second-secret").code == ResponseCode.success)
        await f.stop()
    }

    @Test func missingFileStopsStartup() async throws {
        await #expect(throws: AclConfigError.self) {
            try await BrokerFixture.start { config in
                config.aclEnable = true
                config.aclFilePath = "/nonexistent/plain_acl.yml"
            }
        }
    }
}
