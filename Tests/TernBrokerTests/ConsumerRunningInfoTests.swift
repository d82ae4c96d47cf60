import NIOCore
@testable import TernBroker
import TernRemoting
import TernTransport
import Testing

/// GET_CONSUMER_RUNNING_INFO (307): the broker relays the request to the consumer's connection and its answer back.
@Suite struct ConsumerRunningInfoTests {
    /// Answers 307 with a body naming the client id it was asked about.
    final class RunningInfoClient: RemotingRequestHandler {
        func handle(_ request: RemotingCommand, responder: RemotingResponder) {
            guard request.code == ConsumerRunningInfoRequestCode.getConsumerRunningInfo else { return }
            responder.respond(code: ResponseCode.success, body: ByteBuffer(string: #"{"properties":{"clientId":"\#(request.extFields["clientId"] ?? "")"}}"#))
        }
    }

    @Test func relayedToTheClientAndBack() async throws {
        let f = try await BrokerFixture.start()
        let client = try await RemotingClient.connect(to: f.address, group: f.group, handler: RunningInfoClient())
        _ = try await f.heartbeat(clientId: "A", on: client)
        let code = ConsumerRunningInfoRequestCode.getConsumerRunningInfo
        let r = try await f.call(code, ["consumerGroup": "CG", "clientId": "A", "jstackEnable": "false"])
        #expect(r.code == ResponseCode.success)
        #expect(String(buffer: try #require(r.body)) == #"{"properties":{"clientId":"A"}}"#)
        let missing = try await f.call(code, ["consumerGroup": "CG", "clientId": "B"])
        #expect(missing.code == ResponseCode.systemError && missing.remark == "The Consumer <CG> <B> not online")
        await f.stop()
    }
}
