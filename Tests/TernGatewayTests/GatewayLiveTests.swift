import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Testing
import TernBroker
import TernClient
import TernNameServer
@testable import TernGateway

/// The gateway's routes (in-process router) against a real name server and broker on loopback.
@Suite(.serialized) struct GatewayLiveTests {
    struct Fixture {
        let group: MultiThreadedEventLoopGroup
        let ns: NameServer
        let broker: Broker
        let gateway: HTTPGateway
        let admin: AdminClient
        let dir: String

        static func start(maxMessageSize: Int = 1024, autoCreateTopics: Bool = false) async throws -> Fixture {
            let dir = NSTemporaryDirectory() + "tern-gateway-\(UUID().uuidString)"
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            var nsConfig = NameServerConfig()
            nsConfig.listenPort = 0
            let ns = try await NameServer.start(config: nsConfig, group: group)
            var config = BrokerConfig()
            config.storePathRootDir = dir
            config.listenPort = 0
            config.mappedFileSizeCommitLog = 64 << 20
            config.namesrvAddr = ["127.0.0.1:\(ns.port)"]
            config.maxMessageSize = maxMessageSize
            config.autoCreateTopicEnable = autoCreateTopics
            let broker = try await Broker.start(config: config, group: group, logger: Logger(label: "test.broker"))
            let gateway = try HTTPGateway(config: GatewayConfig(
                nameServers: config.namesrvAddr, brokerAddress: "127.0.0.1:\(broker.port)", brokerName: config.brokerName,
                maxMessageSize: maxMessageSize), logger: Logger(label: "test.gateway"))
            let admin = AdminClient(runtime: ClientRuntime(options: ClientOptions(nameServer: "127.0.0.1:\(ns.port)"), group: group))
            return Fixture(group: group, ns: ns, broker: broker, gateway: gateway, admin: admin, dir: dir)
        }

        /// Creates `topic` once the broker registered with the name server (it does so right after starting), and
        /// waits until the name server routes it with all its queues.
        func createTopic(_ topic: String, queues: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(15)
            while true {
                do {
                    try await admin.createTopic(topic, readQueues: queues, writeQueues: queues)
                    break
                } catch where ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            while (try? await admin.runtime.route(topic: topic, refresh: true).get())?.writeQueues.count != queues {
                guard ContinuousClock.now < deadline else { throw ClientError.topicNotFound(topic) }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func stop() async throws {
            gateway.shutdown()
            admin.runtime.shutdown()
            await broker.shutdown()
            await ns.shutdown()
            try await group.shutdownGracefully()
            try? FileManager.default.removeItem(atPath: dir)
        }

        func app() -> some ApplicationProtocol {
            let router = Router()
            gateway.register(on: router)
            return Application(router: router)
        }
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    /// Receives until `count` messages came or the deadline passed.
    static func receiveAll(_ client: some TestClientProtocol, topic: String, group: String, count: Int,
                           invisible: Int = 30) async throws -> [[String: Any]] {
        var got: [[String: Any]] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while got.count < count, ContinuousClock.now < deadline {
            let page = try await client.execute(uri: "/topics/\(topic)/messages?group=\(group)&max=10&wait=2&invisibleSeconds=\(invisible)",
                                                method: .get) { r in
                #expect(r.status == .ok)
                return try json(r.body)["messages"] as? [[String: Any]] ?? []
            }
            got += page
        }
        return got
    }

    @Test func sendReceiveAckCommitsTheGroupOffset() async throws {
        let f = try await Fixture.start()
        try await f.createTopic("GwT1", queues: 2)
        try await f.app().test(.router) { client in
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            headers[HTTPField.Name("X-Tern-Tags")!] = "TagA"
            headers[HTTPField.Name("X-Tern-Keys")!] = "k1,k2"
            headers[HTTPField.Name("X-Tern-Properties")!] = "orderId=42"
            let sent = try await client.execute(uri: "/topics/GwT1/messages", method: .post, headers: headers,
                                                body: ByteBuffer(string: "single")) { r in
                #expect(r.status == .ok)
                return try Self.json(r.body)
            }
            #expect(sent["status"] as? String == "SEND_OK")
            let batch = try await client.execute(uri: "/topics/GwT1/messages/batch", method: .post,
                                                 headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"[{"body":"b0"},{"body":"b1"},{"bodyBase64":"YjI="}]"#)) { r in
                #expect(r.status == .ok)
                return try Self.json(r.body)["messages"] as? [[String: Any]] ?? []
            }
            #expect(batch.compactMap { $0["queueOffset"] as? Int } == [0, 1, 2].map { $0 + (batch.first?["queueOffset"] as? Int ?? 0) })

            let got = try await Self.receiveAll(client, topic: "GwT1", group: "GwG1", count: 4)
            #expect(Set(got.compactMap { $0["body"] as? String }) == ["single", "b0", "b1", "b2"])
            let single = try #require(got.first { $0["body"] as? String == "single" })
            #expect(single["tags"] as? String == "TagA")
            #expect(single["keys"] as? [String] == ["k1", "k2"])
            #expect((single["properties"] as? [String: String])?["orderId"] == "42")
            #expect(single["msgId"] as? String == sent["msgId"] as? String)

            let handles = got.compactMap { $0["handle"] as? String }
            let body = try JSONSerialization.data(withJSONObject: ["group": "GwG1", "handles": handles])
            let results = try await client.execute(uri: "/topics/GwT1/messages/ack", method: .post,
                                                   headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
                return try Self.json(r.body)["results"] as? [[String: Any]] ?? []
            }
            #expect(results.count == 4 && results.allSatisfy { $0["ok"] as? Bool == true })
            // Acked messages are not delivered again; the group's offsets cover all four.
            let again = try await client.execute(uri: "/topics/GwT1/messages?group=GwG1&wait=1", method: .get) { r in
                try Self.json(r.body)["messages"] as? [[String: Any]] ?? []
            }
            #expect(again.isEmpty)
            let progress = try await f.admin.consumerProgress(group: "GwG1", topic: "GwT1")
            #expect(progress.queues.reduce(0) { $0 + $1.consumerOffset } == 4)
        }
        try await f.stop()
    }

    @Test func unackedMessagesComeBackWithANewHandle() async throws {
        let f = try await Fixture.start()
        try await f.createTopic("GwT2", queues: 1)
        try await f.app().test(.router) { client in
            _ = try await client.execute(uri: "/topics/GwT2/messages", method: .post, body: ByteBuffer(string: "once")) { r in
                #expect(r.status == .ok)
            }
            let first = try await Self.receiveAll(client, topic: "GwT2", group: "GwG2", count: 1, invisible: 1)
            let second = try await Self.receiveAll(client, topic: "GwT2", group: "GwG2", count: 1, invisible: 30)
            #expect(first.first?["body"] as? String == "once" && second.first?["body"] as? String == "once")
            let old = try #require(first.first?["handle"] as? String), new = try #require(second.first?["handle"] as? String)
            #expect(old != new)
            for (handle, ok) in [(old, false), (new, true)] {
                let body = try JSONSerialization.data(withJSONObject: ["group": "GwG2", "handles": [handle]])
                let result = try await client.execute(uri: "/topics/GwT2/messages/ack", method: .post,
                                                      headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body)) { r in
                    try Self.json(r.body)["results"] as? [[String: Any]] ?? []
                }
                #expect(result.first?["ok"] as? Bool == ok)
            }
        }
        try await f.stop()
    }

    @Test func unknownTopicIsCreatedWhenTheBrokerAutoCreatesTopics() async throws {
        let f = try await Fixture.start(autoCreateTopics: true)
        try await f.createTopic("GwWarm", queues: 1)  // waits until the broker registered
        try await f.app().test(.router) { client in
            for body in ["first", "second"] {
                try await client.execute(uri: "/topics/GwNew/messages", method: .post, body: ByteBuffer(string: body)) { r in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                }
            }
        }
        // The broker registers the topic it created with the name server shortly after.
        let deadline = ContinuousClock.now + .seconds(15)
        var route: TopicRouteInfo?
        while route == nil, ContinuousClock.now < deadline {
            route = try? await f.admin.runtime.route(topic: "GwNew", refresh: true).get()
            if route == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect((route?.writeQueues.count ?? 0) > 0)
        try await f.stop()
    }

    @Test func errorsAnswerJSONWithStatusAndCode() async throws {
        let f = try await Fixture.start(maxMessageSize: 1024)
        try await f.createTopic("GwT3", queues: 1)
        try await f.app().test(.router) { client in
            let cases: [(String, HTTPRequest.Method, ByteBuffer?, HTTPResponse.Status, Int)] = [
                ("/topics/GwT3/messages", .post, ByteBuffer(repeating: 0x41, count: 1025), .contentTooLarge, 13),
                ("/topics/NoSuchTopic/messages", .post, ByteBuffer(string: "x"), .notFound, 17),
                ("/topics/NoSuchTopic/messages?group=G", .get, nil, .notFound, 17),
                ("/topics/bad%20name/messages", .post, ByteBuffer(string: "x"), .badRequest, 13),
                ("/topics/GwT3/messages?wait=1", .get, nil, .badRequest, 13),
                ("/topics/GwT3/messages/ack", .post, ByteBuffer(string: #"{"group":"G","handles":["nope"]}"#), .badRequest, 13),
            ]
            for (uri, method, body, status, code) in cases {
                try await client.execute(uri: uri, method: method, headers: [.contentType: "application/octet-stream"], body: body) { r in
                    #expect(r.status == status, "\(uri)")
                    let answer = try Self.json(r.body)
                    #expect(answer["code"] as? Int == code, "\(uri)")
                }
            }
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                let doc = try Self.json(r.body)
                let paths = try #require(doc["paths"] as? [String: Any])
                #expect(Set(paths.keys) == ["/topics/{topic}/messages", "/topics/{topic}/messages/batch",
                                            "/topics/{topic}/messages/ack", "/topics/{topic}/messages/nack", "/openapi.json"])
            }
        }
        try await f.stop()
    }
}
