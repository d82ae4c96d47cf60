import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TernClient

/// The gateway's HTTP routes:
///
///     POST /topics/{topic}/messages          send one message (raw body + X-Tern-* headers, or a JSON envelope)
///     POST /topics/{topic}/messages/batch    send a JSON array of envelopes as one batch
///     GET  /topics/{topic}/messages          receive: ?group=G&max=N&wait=S&invisibleSeconds=V
///     POST /topics/{topic}/messages/ack      {"group", "handles"}
///     POST /topics/{topic}/messages/nack     {"group", "handles", "delayLevel"?, "maxReconsumeTimes"?}
///     GET  /openapi.json                     the OpenAPI 3 document of these routes
///
/// Every error answers a JSON body `{"code", "error"}` (``GatewayError``).
struct GatewayRoutes: Sendable {
    let gateway: HTTPGateway
    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]
    /// A JSON body of ack / nack / batch may be this large (the message limit plus base64 and envelope room).
    var jsonLimit: Int { gateway.config.maxMessageSize * 2 + 64 * 1024 }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/topics/:topic/messages") { request, context in
            try await respond { try await send(request, context, batch: false) }
        }
        router.post("/topics/:topic/messages/batch") { request, context in
            try await respond { try await send(request, context, batch: true) }
        }
        router.get("/topics/:topic/messages") { request, context in
            try await respond { try await receive(request, context) }
        }
        router.post("/topics/:topic/messages/ack") { request, context in
            try await respond { try await settle(request, context, nack: false) }
        }
        router.post("/topics/:topic/messages/nack") { request, context in
            try await respond { try await settle(request, context, nack: true) }
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: Self.jsonHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }

    /// Runs a handler; every failure becomes a ``GatewayError`` answer.
    private func respond(_ body: () async throws -> [UInt8]) async throws -> Response {
        do {
            return Response(status: .ok, headers: Self.jsonHeaders, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await body())))
        } catch {
            let e = GatewayError.mapping(error)
            return Response(status: e.status, headers: Self.jsonHeaders, body: ResponseBody(byteBuffer: ByteBuffer(bytes: e.jsonBody)))
        }
    }

    // MARK: Handlers

    private func send(_ request: Request, _ context: BasicRequestContext, batch: Bool) async throws -> [UInt8] {
        let topic = try Names.topic(context.parameters.get("topic"))
        let clients = try gateway.clients.clients(authorization: request.headers[.authorization])
        let isJSON = request.headers[.contentType].map { $0.lowercased().hasPrefix("application/json") } ?? false
        let limit = isJSON || batch ? jsonLimit : gateway.config.maxMessageSize
        let body = try await collect(request, limit: limit)
        if batch {
            guard isJSON else { throw GatewayError(.unsupportedMediaType, code: 13, "a batch is a JSON array: Content-Type: application/json") }
            let messages = try OutgoingMessage.fromJSON(body, batch: true, maxBatch: HTTPGateway.maxBatch)
            try checkSize(messages)
            return GatewayJSON.encode(try await gateway.sendBatch(topic: topic, messages, clients: clients))
        }
        let message = isJSON ? try OutgoingMessage.fromJSON(body, batch: false, maxBatch: 1)[0]
            : try OutgoingMessage.fromHeaders(request.headers, body: body)
        try checkSize([message])
        return GatewayJSON.encode(try await gateway.send(topic: topic, message, clients: clients))
    }

    private func checkSize(_ messages: [OutgoingMessage]) throws(GatewayError) {
        let limit = gateway.config.maxMessageSize
        let total = messages.reduce(0) { $0 + $1.body.count }
        if total > limit { throw .tooLarge(total, limit: limit) }
    }

    private func receive(_ request: Request, _ context: BasicRequestContext) async throws -> [UInt8] {
        let topic = try Names.topic(context.parameters.get("topic"))
        let query = request.uri.queryParameters
        let group = try Names.group(query.get("group"))
        let config = gateway.config
        let max = try Names.int(query.get("max"), "max", default: 16, 1 ... config.maxReceive)
        let wait = try Names.int(query.get("wait"), "wait", default: 0, 0 ... config.maxWaitSeconds)
        let invisible = try Names.int(query.get("invisibleSeconds"), "invisibleSeconds",
                                      default: config.defaultInvisibleSeconds, 1 ... 43_200)
        let clients = try gateway.clients.clients(authorization: request.headers[.authorization])
        let consumer = PullConsumer(runtime: clients.runtime, group: group)
        let got = try await gateway.groupConsumer(group).receive(
            topic: topic, max: max, wait: .seconds(wait), invisible: .seconds(invisible), consumer: consumer)
        return GatewayJSON.encode(GatewayJSON.ReceiveResult(messages: got.map(GatewayJSON.item)))
    }

    private func settle(_ request: Request, _ context: BasicRequestContext, nack: Bool) async throws -> [UInt8] {
        let topic = try Names.topic(context.parameters.get("topic"))
        let clients = try gateway.clients.clients(authorization: request.headers[.authorization])
        let body = try await collect(request, limit: jsonLimit)
        let parsed: GatewayJSON.HandlesRequest
        do {
            parsed = try JSONDecoder().decode(GatewayJSON.HandlesRequest.self, from: Data(body))
        } catch {
            throw GatewayError.badRequest("expected {\"group\": ..., \"handles\": [...]}: \(error)")
        }
        let group = try Names.group(parsed.group)
        guard !parsed.handles.isEmpty, parsed.handles.count <= HTTPGateway.maxBatch else {
            throw GatewayError.badRequest("handles holds 1...\(HTTPGateway.maxBatch) handles")
        }
        var handles: [(text: String, handle: ReceiptHandle)] = []
        for text in parsed.handles {
            guard let h = ReceiptHandle(text: text) else { throw GatewayError.badRequest("not a receipt handle: \(text.prefix(80))") }
            handles.append((text, h))
        }
        let delayLevel = parsed.delayLevel ?? 0
        guard (-1 ... 18).contains(delayLevel) else { throw GatewayError.badRequest("delayLevel must be -1...18") }
        if let m = parsed.maxReconsumeTimes, !(0 ... 1000).contains(m) {
            throw GatewayError.badRequest("maxReconsumeTimes must be 0...1000")
        }
        let consumer = PullConsumer(runtime: clients.runtime, group: group)
        let g = try gateway.groupConsumer(group)
        let outcomes = nack
            ? await g.nack(handles, topic: topic, delayLevel: delayLevel, maxReconsumeTimes: parsed.maxReconsumeTimes, consumer: consumer)
            : await g.ack(handles, topic: topic, consumer: consumer)
        return GatewayJSON.encode(GatewayJSON.HandlesResult(results: outcomes.map {
            GatewayJSON.HandleOutcome(handle: $0.handle, ok: $0.error == nil, error: $0.error)
        }))
    }

    /// The request body, refused with 413 past `limit` bytes.
    private func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw GatewayError(.contentTooLarge, code: 13, "request body exceeds \(limit) bytes (maxMessageSize \(gateway.config.maxMessageSize))")
        }
    }
}

/// Validation of names and numbers from paths and query strings. Names are RocketMQ's topic / group characters
/// without `%` and `|`: the gateway serves ordinary topics, not `%RETRY%` / `%DLQ%` ones.
enum Names {
    static func topic(_ s: String?) throws(GatewayError) -> String {
        try checked(s, "topic", maxLength: 127)
    }

    static func group(_ s: String?) throws(GatewayError) -> String {
        try checked(s, "group", maxLength: 255)
    }

    private static func checked(_ s: String?, _ what: String, maxLength: Int) throws(GatewayError) -> String {
        guard let s, !s.isEmpty else { throw .badRequest("\(what) is required") }
        guard s.utf8.count <= maxLength, s.utf8.allSatisfy(isNameByte) else {
            throw .badRequest("\(what) must be 1...\(maxLength) of [A-Za-z0-9_-]")
        }
        return s
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    static func int(_ s: String?, _ what: String, default value: Int, _ range: ClosedRange<Int>) throws(GatewayError) -> Int {
        guard let s else { return value }
        guard let n = Int(s), range.contains(n) else {
            throw .badRequest("\(what) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }
}
