import Foundation
import NIOCore
@testable import TernBroker
import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// Request / reply: a reply sent to `<cluster>_REPLY_TOPIC` is pushed to the requester's connection.
@Suite struct RequestReplyTests {
    static let replyTopic = "DefaultCluster_REPLY_TOPIC"

    /// Waits for the first stored message of `topic` and decodes it (what a consumer of the requests gets).
    static func firstMessage(_ f: BrokerFixture, _ topic: String) async throws -> ReceivedMessage {
        var found: ReceivedMessage?
        _ = await eventually(timeoutMillis: 5_000) {
            found = try? TransactionTests.messages(f, topic).first
            return found != nil
        }
        return try #require(found)
    }

    @Test func requestGetsItsReplyPushed() async throws {
        let f = try await BrokerFixture.start()
        #expect(f.broker.context.topics.config(Self.replyTopic)?.writeQueueNums == 1)
        let requesterRuntime = TransactionTests.runtime(f, topics: ["REQ"])
        let replierRuntime = TransactionTests.runtime(f, topics: [Self.replyTopic], queues: 1)
        let requester = Producer(runtime: requesterRuntime)
        let replier = Producer(runtime: replierRuntime)

        let replierTask = Task {
            let request = try await Self.firstMessage(f, "REQ")
            return try await replier.reply(to: request, body: Array("pong:".utf8) + request.body)
        }
        let reply = try await requester.request(topic: "REQ", body: Array("ping".utf8), timeout: .seconds(5))
        #expect(String(decoding: reply.body, as: UTF8.self) == "pong:ping")
        #expect(reply.topic == Self.replyTopic)
        #expect(reply.properties["MSG_TYPE"] == "reply")
        #expect(reply.properties["REPLY_TO_CLIENT"] == requesterRuntime.clientId)
        #expect(reply.properties["PUSH_REPLY_TIME"] != nil)
        let sent = try await replierTask.value
        #expect(sent.status == .ok)

        // The request was stored with the cluster name (how a Java replier names the reply topic), and the
        // reply is stored too, with the same correlation id.
        let request = try await Self.firstMessage(f, "REQ")
        #expect(request.properties["CLUSTER"] == "DefaultCluster")
        #expect(request.properties["REPLY_TO_CLIENT"] == requesterRuntime.clientId)
        #expect(request.properties["TTL"] == "5000")
        let stored = try await Self.firstMessage(f, Self.replyTopic)
        #expect(stored.properties["CORRELATION_ID"] == request.properties["CORRELATION_ID"])
        #expect(reply.properties["CORRELATION_ID"] == request.properties["CORRELATION_ID"])
        requesterRuntime.shutdown()
        replierRuntime.shutdown()
        await f.stop()
    }

    @Test func replyToAGoneRequesterFailsClearly() async throws {
        let f = try await BrokerFixture.start()
        let requesterRuntime = TransactionTests.runtime(f, topics: ["REQ"])
        let replierRuntime = TransactionTests.runtime(f, topics: [Self.replyTopic], queues: 1)
        let requester = Producer(runtime: requesterRuntime)
        // Nobody answers: the request times out.
        do {
            _ = try await requester.request(topic: "REQ", body: [1], timeout: .milliseconds(300))
            Issue.record("a request without a replier got a reply")
        } catch let error as ClientError {
            guard case .replyTimeout = error else { Issue.record("unexpected \(error)"); return }
        }
        let request = try await Self.firstMessage(f, "REQ")
        requesterRuntime.shutdown()
        #expect(await eventually { f.broker.context.clients.channel(clientId: requesterRuntime.clientId) == nil })

        let replier = Producer(runtime: replierRuntime)
        do {
            _ = try await replier.reply(to: request, body: [2])
            Issue.record("a reply to a gone requester succeeded")
        } catch let ClientError.response(code, remark, _) {
            #expect(code == ResponseCode.systemError)
            #expect(remark?.contains("not online") == true)
            #expect(remark?.contains(requesterRuntime.clientId) == true)
        }
        // A reply without REPLY_TO_CLIENT (raw frame) is refused too.
        let props = SendFrames.properties([("CORRELATION_ID", "c1"), ("MSG_TYPE", "reply")])
        let r = try await f.call(RequestCode.sendReplyMessage, SendFrames.javaFields(topic: Self.replyTopic, properties: props),
                                 body: SendFrames.buffer("x"))
        #expect(r.code == ResponseCode.systemError && r.remark?.contains("REPLY_TO_CLIENT") == true)
        replierRuntime.shutdown()
        await f.stop()
    }
}
