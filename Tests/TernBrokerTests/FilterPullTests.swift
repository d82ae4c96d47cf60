import Foundation
import NIOCore
@testable import TernBroker
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

extension BrokerFixture {
    /// Appends one message with these properties (plus a UNIQ_KEY) straight to the store, indexed on return.
    @discardableResult
    func put(_ topic: String, queueId: Int32 = 0, properties: [(String, String)], body: String) throws -> AppendResult {
        let draft = MessageDraft(topic: Array(topic.utf8), queueId: queueId, bornTimestamp: Int64(Date().timeIntervalSince1970 * 1000),
                                 bornHost: HostAddress("127.0.0.1:40000")!, storeHost: broker.context.storeHost,
                                 body: Array(body.utf8),
                                 properties: MessageProperties.encode(properties + [("UNIQ_KEY", UUID().uuidString)]))
        let r = try broker.store.append(draft)
        #expect(broker.store.waitUntilDispatched(r.endOffset))
        return r
    }

    /// A non-suspended pull with an explicit subscription of `type` from offset 0; returns the response.
    func pull(_ topic: String, group: String = "CG", expression: String, type: String, offset: Int64 = 0,
              sysFlag: Int = 4) async throws -> RemotingCommand {
        var f = Self.pullFields(topic, queueId: 0, offset: offset, group: group, sysFlag: sysFlag, subscription: expression,
                                suspendMillis: 0, commitOffset: 0)
        f["expressionType"] = type
        return try await call(RequestCode.pullMessage, f)
    }

    /// Bodies of the messages a pull returned.
    func bodies(_ r: RemotingCommand) -> [String] { decodeRecords(r.body).map(\.body) }
}

/// A heartbeat as a Java consumer sends it (enum names, expressionType), one subscription.
func javaHeartbeat(clientId: String, group: String, topic: String, expression: String, type: String) -> ByteBuffer {
    let sub = SubscriptionData(topic: topic, subString: expression, subVersion: 1_700_000_000_000, expressionType: type)
    let data = HeartbeatData(clientID: clientId, consumerDataSet: [ConsumerData(groupName: group, subscriptionDataSet: [sub])])
    return JSONBody.encode(data)
}

@Suite struct SQL92PullTests {
    private static func startWithMessages() async throws -> BrokerFixture {
        let f = try await BrokerFixture.start { $0.enablePropertyFilter = true }
        try f.createTopic("T", queues: 1)
        try f.put("T", properties: [("TAGS", "A"), ("a", "1"), ("color", "red")], body: "m0")
        try f.put("T", properties: [("TAGS", "B"), ("a", "7"), ("color", "blue")], body: "m1")
        try f.put("T", properties: [("TAGS", "A"), ("a", "x")], body: "m2")
        try f.put("T", properties: [("TAGS", "B")], body: "m3")
        try f.put("T", properties: [("TAGS", "A"), ("a", "10"), ("color", "red")], body: "m4")
        return f
    }

    @Test func pullReturnsOnlyMatchingMessages() async throws {
        let f = try await Self.startWithMessages()
        defer { Task { await f.stop() } }
        let cases: [(String, [String])] = [
            ("a > 5", ["m1", "m4"]),
            ("a BETWEEN 1 AND 7", ["m0", "m1"]),
            ("a IS NULL", ["m3"]),
            ("color IN ('red') AND TAGS = 'A'", ["m0", "m4"]),
            ("NOT (color = 'red') OR a IS NULL", ["m1", "m3"]),
            ("a = 'x' OR TAGS = 'B'", ["m1", "m2", "m3"]),
        ]
        for (expression, expected) in cases {
            let r = try await f.pull("T", expression: expression, type: "SQL92")
            #expect(r.code == ResponseCode.success, "\(expression): \(r.code) \(r.remark ?? "")")
            #expect(f.bodies(r) == expected, "\(expression)")
            #expect(r.extFields.int64("nextBeginOffset") == 5)
        }
        // Nothing matches: the whole queue is skipped and the client retries from its end.
        let none = try await f.pull("T", expression: "a > 100", type: "sql92")
        #expect(none.code == ResponseCode.pullRetryImmediately)
        #expect(none.extFields.int64("nextBeginOffset") == 5)
        // The same expression as a TAG subscription is not SQL.
        let tag = try await f.pull("T", expression: "A", type: "TAG")
        #expect(f.bodies(tag) == ["m0", "m2", "m4"])
    }

    @Test func badExpressionIsRefusedWithTheParseError() async throws {
        let f = try await Self.startWithMessages()
        defer { Task { await f.stop() } }
        let r = try await f.pull("T", expression: "a > 'x'", type: "SQL92")
        #expect(r.code == ResponseCode.subscriptionParseFailed)
        #expect(r.remark?.contains("cannot be compared") == true, "\(r.remark ?? "")")
        let unterminated = try await f.pull("T", expression: "a = 'x", type: "SQL92")
        #expect(unterminated.code == ResponseCode.subscriptionParseFailed)
        #expect(unterminated.remark?.contains("column 5") == true)
    }

    @Test func disabledByDefault() async throws {
        let f = try await BrokerFixture.start()
        defer { Task { await f.stop() } }
        try f.createTopic("T", queues: 1)
        let r = try await f.pull("T", expression: "a > 1", type: "SQL92")
        #expect(r.code == ResponseCode.systemError)
        #expect(r.remark == "The broker does not support consumer to filter message by SQL92")
        let check = try await f.call(RequestCode.checkClientConfig, body: JSONBody.encode(CheckClientRequestBody(
            clientId: "c", group: "CG", subscriptionData: SubscriptionData(topic: "T", subString: "a > 1", expressionType: "SQL92"))))
        #expect(check.code == ResponseCode.systemError)
    }

    @Test func heartbeatRegistersOrRefusesTheSubscription() async throws {
        let f = try await Self.startWithMessages()
        defer { Task { await f.stop() } }
        let c = try await f.connect()
        defer { c.close() }
        let bad = try await f.call(RequestCode.heartBeat, body: javaHeartbeat(clientId: "c1", group: "CG", topic: "T",
                                                                               expression: "a >", type: "SQL92"), on: c)
        #expect(bad.code == ResponseCode.subscriptionParseFailed)
        #expect(bad.remark?.contains("SQL92 parse error") == true)
        #expect(f.broker.context.clients.subscription(group: "CG", topic: "T") == nil)

        let good = try await f.call(RequestCode.heartBeat, body: javaHeartbeat(clientId: "c1", group: "CG", topic: "T",
                                                                                expression: "color = 'red'", type: "SQL92"), on: c)
        #expect(good.code == ResponseCode.success)
        // Without the subscription flag the pull uses the registered SQL92 subscription.
        let r = try await f.pull("T", expression: "", type: "", sysFlag: 0)
        #expect(f.bodies(r) == ["m0", "m4"])
    }

    @Test func checkClientConfigAnswersLikeJava() async throws {
        let f = try await Self.startWithMessages()
        defer { Task { await f.stop() } }
        func check(_ expression: String, _ type: String?) async throws -> RemotingCommand {
            let body = CheckClientRequestBody(clientId: "c", group: "CG",
                                              subscriptionData: SubscriptionData(topic: "T", subString: expression, expressionType: type))
            return try await f.call(RequestCode.checkClientConfig, body: JSONBody.encode(body))
        }
        #expect(try await check("a > 1", "SQL92").code == ResponseCode.success)
        #expect(try await check("TagA || TagB", "TAG").code == ResponseCode.success)
        #expect(try await check("a >>", "SQL92").code == ResponseCode.subscriptionParseFailed)
        #expect(try await check("x", "CLASS").code == ResponseCode.systemError)
    }

    @Test func retryTopicsAreNotSQLFiltered() async throws {
        let f = try await BrokerFixture.start { $0.enablePropertyFilter = true }
        defer { Task { await f.stop() } }
        try f.createTopic("%RETRY%CG", queues: 1)
        try f.put("%RETRY%CG", properties: [("a", "1")], body: "r0")
        try f.put("%RETRY%CG", properties: [("a", "9")], body: "r1")
        let r = try await f.pull("%RETRY%CG", expression: "a > 5", type: "SQL92")
        #expect(f.bodies(r) == ["r0", "r1"])
    }

    @Test func longPolledSQLPullWakesOnlyForAMatch() async throws {
        let f = try await Self.startWithMessages()
        defer { Task { await f.stop() } }
        let c = try await f.connect()
        defer { c.close() }
        var fields = BrokerFixture.pullFields("T", queueId: 0, offset: 5, group: "CG", sysFlag: 2 | 4,
                                              subscription: "a >= 100", suspendMillis: 10_000, commitOffset: 0)
        fields["expressionType"] = "SQL92"
        let pending: EventLoopFuture<RemotingCommand> = c.request(
            RemotingCommand(code: RequestCode.pullMessage, language: .java, version: 400, extFields: fields),
                                timeout: .seconds(30))
        // Answered after the broker handled (parked) the pull on the same connection.
        _ = try await f.call(RequestCode.getMaxOffset, ["topic": "T", "queueId": "0"], on: c)
        try f.put("T", properties: [("a", "3")], body: "small")
        try f.put("T", properties: [("a", "300")], body: "big")
        let r = try await pending.get()
        #expect(r.code == ResponseCode.success)
        #expect(f.bodies(r) == ["big"])
    }
}

@Suite struct EnvironmentIsolationTests {
    @Test func twoEnvironmentsAndABaseConsumerEachSeeTheirShare() async throws {
        let f = try await BrokerFixture.start { $0.environmentIsolationEnable = true }
        defer { Task { await f.stop() } }
        try f.createTopic("T", queues: 1)
        for (n, env) in ["", "dev", "", "qa", "dev", "", "qa", "other"].enumerated() {
            try f.put("T", properties: env.isEmpty ? [("TAGS", "t")] : [("TAGS", "t"), ("__ENV", env)], body: "\(env.isEmpty ? "base" : env)\(n)")
        }
        let groups = ["CG", "CG%env%dev", "CG%env%qa"]
        var connections: [String: RemotingConnection] = [:]
        for g in groups {
            let c = try await f.connect()
            connections[g] = c
            #expect(try await f.heartbeat(clientId: "client-\(g)", group: g, topics: ["T": "*"], on: c).code == ResponseCode.success)
        }
        defer { for c in connections.values { c.close() } }

        #expect(f.bodies(try await f.pull("T", group: "CG", expression: "*", type: "TAG")) == ["base0", "base2", "base5"])
        #expect(f.bodies(try await f.pull("T", group: "CG%env%dev", expression: "*", type: "TAG")) == ["dev1", "dev4"])
        #expect(f.bodies(try await f.pull("T", group: "CG%env%qa", expression: "t", type: "TAG")) == ["qa3", "qa6"])
        // The base group of another topic or base name does not count.
        #expect(f.bodies(try await f.pull("T", group: "OTHER%env%dev", expression: "*", type: "TAG"))
                == ["base0", "dev1", "base2", "dev4", "base5"])

        // The base consumer leaves: the environment groups stand in for it.
        connections["CG"]!.close()
        #expect(await eventually { f.broker.context.clients.subscription(group: "CG", topic: "T") == nil })
        #expect(f.bodies(try await f.pull("T", group: "CG%env%dev", expression: "*", type: "TAG"))
                == ["base0", "dev1", "base2", "dev4", "base5"])
        #expect(f.bodies(try await f.pull("T", group: "CG", expression: "*", type: "TAG")) == ["base0", "base2", "base5"])
    }

    @Test func offByDefault() async throws {
        let f = try await BrokerFixture.start()
        defer { Task { await f.stop() } }
        try f.createTopic("T", queues: 1)
        try f.put("T", properties: [("__ENV", "dev")], body: "dev")
        try f.put("T", properties: [("TAGS", "t")], body: "base")
        #expect(f.bodies(try await f.pull("T", group: "CG", expression: "*", type: "TAG")) == ["dev", "base"])
    }

    @Test func combinesWithSQLAndSurvivesRestart() async throws {
        let f = try await BrokerFixture.start { $0.environmentIsolationEnable = true; $0.enablePropertyFilter = true }
        try f.createTopic("T", queues: 1)
        try f.put("T", properties: [("__ENV", "dev"), ("a", "1")], body: "dev-a1")
        try f.put("T", properties: [("__ENV", "dev"), ("a", "2")], body: "dev-a2")
        try f.put("T", properties: [("a", "2")], body: "base-a2")
        #expect(f.bodies(try await f.pull("T", group: "G%env%dev", expression: "a = 2", type: "SQL92")) == ["dev-a2", "base-a2"])
        await f.stop(keepStore: true)
        let again = try await BrokerFixture.start(storeDir: f.storeDir) { $0.environmentIsolationEnable = true; $0.enablePropertyFilter = true }
        defer { Task { await again.stop() } }
        #expect(again.bodies(try await again.pull("T", group: "G%env%dev", expression: "a = 2", type: "SQL92")) == ["dev-a2", "base-a2"])
        #expect(again.bodies(try await again.pull("T", group: "G", expression: "a = 2", type: "SQL92")) == ["base-a2"])
    }
}
