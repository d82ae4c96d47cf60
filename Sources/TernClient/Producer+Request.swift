import NIOCore
import TernMessage

/// Request / reply (RocketMQ 4.7+): the requester sends an ordinary message carrying CORRELATION_ID,
/// REPLY_TO_CLIENT (this runtime's client id) and TTL, and waits; the replier sends the reply to
/// `<cluster>_REPLY_TOPIC` with SEND_REPLY_MESSAGE, and the broker pushes it to the requester's connection.
extension Producer {
    /// Sends a request message and waits up to `timeout` for its reply. The producer first heartbeats its
    /// group to the topic's brokers so they can find this client's connection for the push.
    public func request(topic: String, body: [UInt8], tags: String? = nil, keys: [String] = [],
                        properties: [String: String] = [:], timeout: TimeAmount = .seconds(3)) async throws -> ReceivedMessage {
        let correlationId = UniqueKey.next()
        var props = properties
        props[ReplyProperties.correlationId] = correlationId
        props[ReplyProperties.replyToClient] = runtime.clientId
        props[ReplyProperties.ttl] = String(timeout.nanoseconds / 1_000_000)
        let route = try await runtime.route(topic: topic).get()
        for address in route.masterAddresses {
            try await runtime.heartbeats.ensure(runtime, address: address, group: options.group).get()
        }
        let loop = runtime.group.next()
        let promise = loop.makePromise(of: ReceivedMessage.self)
        runtime.inbound.addWaiter(correlationId, promise)
        let timer = loop.scheduleTask(in: timeout) {
            self.runtime.inbound.removeWaiter(correlationId)?.fail(ClientError.replyTimeout(correlationId: correlationId))
        }
        do {
            _ = try await send(topic: topic, body: body, tags: tags, keys: keys, properties: props)
        } catch {
            timer.cancel()
            runtime.inbound.removeWaiter(correlationId)?.fail(error)
            throw error
        }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    /// Sends the reply to `request` (a message received by a consumer): to `<cluster>_REPLY_TOPIC`, where
    /// cluster is the request's CLUSTER property (set by the broker) unless given. Throws
    /// ``ClientError/response(code:remark:address:)`` with SYSTEM_ERROR when the requester is not online.
    public func reply(to request: ReceivedMessage, body: [UInt8], properties: [String: String] = [:],
                      cluster: String? = nil) async throws -> SendResult {
        guard let correlationId = request.properties[ReplyProperties.correlationId],
              let requester = request.properties[ReplyProperties.replyToClient] else {
            throw ClientError.invalidArgument("not a request message: no \(ReplyProperties.correlationId) / \(ReplyProperties.replyToClient)")
        }
        guard let cluster = cluster ?? request.properties[ReplyProperties.cluster] else {
            throw ClientError.invalidArgument("the request has no \(ReplyProperties.cluster) property; name the cluster")
        }
        var props = properties
        props[ReplyProperties.correlationId] = correlationId
        props[ReplyProperties.replyToClient] = requester
        props[ReplyProperties.ttl] = request.properties[ReplyProperties.ttl]
        props[ReplyProperties.messageType] = "reply"
        var send = try prepareSingle(topic: cluster + ReplyProperties.replyTopicSuffix, body: ByteBuffer(bytes: body),
                                     tags: nil, keys: [], properties: props, flag: 0)
        send.reply = true
        return try await dispatch(send, fixedQueue: nil).get()
    }
}
