import Foundation
import HTTPTypes
import NIOCore
import TernMessage

/// One message to send, as read from an HTTP request.
///
/// Two forms, chosen by `Content-Type` alone:
/// - `application/json`: an envelope ``Envelope`` (`body` as UTF-8 text or `bodyBase64`, `tags`, `keys`,
///   `properties`, `delayLevel`, `shardingKey`); a batch is a JSON array of envelopes.
/// - anything else: the request body is the message body, byte for byte, and the attributes come from headers:
///   `X-Tern-Tags`, `X-Tern-Keys` (comma-separated), `X-Tern-Delay-Level`, `X-Tern-Sharding-Key`, and
///   `X-Tern-Properties: name=value&name2=value2` (percent-encoded names and values). Property names are
///   case-sensitive, header names are not (clients and HTTP/2 change their case), so names travel in the value.
public struct OutgoingMessage: Sendable, Equatable {
    public var body: [UInt8]
    public var tags: String?
    public var keys: [String] = []
    public var properties: [String: String] = [:]
    /// RocketMQ delay level (1 = 1 s ... 18 = 2 h); nil or 0: deliver at once.
    public var delayLevel: Int?
    /// Messages with the same sharding key go to the same queue, in send order.
    public var shardingKey: String?

    /// Property names the broker or the client set themselves; a caller may not.
    static let reservedProperties: Set<String> = [
        MessageProperties.keys, MessageProperties.tags, MessageProperties.uniqueKey, MessageProperties.wait,
        MessageProperties.delay, MessageProperties.realTopic, MessageProperties.realQueueId,
        MessageProperties.transactionPrepared, MessageProperties.producerGroup,
        "RETRY_TOPIC", "ORIGIN_MESSAGE_ID", "MAX_OFFSET", "MIN_OFFSET", "CLUSTER", "__STARTDELIVERTIME",
        "TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS",
    ]
    static let delayLevels = 0 ... 18

    /// The JSON form of one message.
    public struct Envelope: Codable, Sendable {
        public var body: String?
        public var bodyBase64: String?
        public var tags: String?
        public var keys: [String]?
        public var properties: [String: String]?
        public var delayLevel: Int?
        public var shardingKey: String?
    }

    public init(body: [UInt8], tags: String? = nil, keys: [String] = [], properties: [String: String] = [:],
                delayLevel: Int? = nil, shardingKey: String? = nil) {
        self.body = body
        self.tags = tags
        self.keys = keys
        self.properties = properties
        self.delayLevel = delayLevel
        self.shardingKey = shardingKey
    }

    /// Header prefixes and names of the raw-body form.
    static let tagsHeader = "x-tern-tags", keysHeader = "x-tern-keys", delayHeader = "x-tern-delay-level"
    static let shardingHeader = "x-tern-sharding-key", propertiesHeader = "x-tern-properties"

    /// The message of a raw-body request: `body` as is, attributes from `headers`.
    public static func fromHeaders(_ headers: HTTPFields, body: [UInt8]) throws(GatewayError) -> OutgoingMessage {
        var m = OutgoingMessage(body: body)
        for field in headers {
            let name = field.name.canonicalName
            switch name {
            case tagsHeader: m.tags = field.value
            case keysHeader: m.keys += splitKeys(field.value)
            case shardingHeader: m.shardingKey = field.value
            case delayHeader:
                guard let level = Int(field.value) else { throw .badRequest("X-Tern-Delay-Level must be an integer 0...18") }
                m.delayLevel = level
            case propertiesHeader:
                for pair in field.value.split(separator: "&") where !pair.isEmpty {
                    let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    guard parts.count == 2, let name = parts[0].removingPercentEncoding,
                          let value = parts[1].removingPercentEncoding else {
                        throw .badRequest("X-Tern-Properties is name=value pairs joined by &, percent-encoded")
                    }
                    m.properties[name] = value
                }
            default: continue
            }
        }
        try m.validate()
        return m
    }

    /// The message of one JSON envelope.
    public static func fromEnvelope(_ e: Envelope) throws(GatewayError) -> OutgoingMessage {
        let body: [UInt8]
        switch (e.body, e.bodyBase64) {
        case (let text?, nil): body = Array(text.utf8)
        case (nil, let b64?):
            guard let data = Data(base64Encoded: b64) else { throw .badRequest("bodyBase64 is not valid base64") }
            body = Array(data)
        default: throw .badRequest("a message needs exactly one of body and bodyBase64")
        }
        var m = OutgoingMessage(body: body, tags: e.tags, keys: e.keys ?? [], properties: e.properties ?? [:],
                                delayLevel: e.delayLevel, shardingKey: e.shardingKey)
        m.keys = m.keys.filter { !$0.isEmpty }
        try m.validate()
        return m
    }

    /// Envelopes from a JSON body: one object, or (`batch`) a non-empty array of at most `maxBatch`.
    public static func fromJSON(_ bytes: [UInt8], batch: Bool, maxBatch: Int) throws(GatewayError) -> [OutgoingMessage] {
        let decoder = JSONDecoder()
        do {
            if batch {
                let envelopes = try decoder.decode([Envelope].self, from: Data(bytes))
                guard !envelopes.isEmpty, envelopes.count <= maxBatch else {
                    throw GatewayError.badRequest("a batch holds 1...\(maxBatch) messages, got \(envelopes.count)")
                }
                var out: [OutgoingMessage] = []
                for e in envelopes { out.append(try fromEnvelope(e)) }
                return out
            }
            return [try fromEnvelope(try decoder.decode(Envelope.self, from: Data(bytes)))]
        } catch let error as GatewayError {
            throw error
        } catch {
            throw .badRequest("invalid JSON message envelope: \(error)")
        }
    }

    static func splitKeys(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws(GatewayError) {
        if let level = delayLevel, !Self.delayLevels.contains(level) {
            throw .badRequest("delayLevel must be 0...18, got \(level)")
        }
        for (name, value) in properties {
            if !Self.isPropertyName(name) || Self.reservedProperties.contains(name) {
                throw .badRequest("property name \"\(name)\" is reserved or not [A-Za-z][A-Za-z0-9_.-]{0,63}")
            }
            if Self.hasSeparator(name) || Self.hasSeparator(value) {
                throw .badRequest("property \(name) contains a control character (\\u0001 / \\u0002)")
            }
        }
        for text in [tags ?? ""] + keys where Self.hasSeparator(text) {
            throw .badRequest("tags and keys may not contain \\u0001 / \\u0002")
        }
        if body.isEmpty { throw .badRequest("message body is empty") }
    }

    /// A letter, then up to 63 letters, digits, `_`, `.` or `-` (names that survive HTTP headers unchanged).
    static func isPropertyName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 64, isLetter(first) else { return false }
        return bytes.dropFirst().allSatisfy {
            isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    private static func hasSeparator(_ s: String) -> Bool {
        s.utf8.contains(MessageProperties.nameSeparator) || s.utf8.contains(MessageProperties.entrySeparator)
    }

    /// User properties plus the delay level, as the producer sends them.
    var sendProperties: [String: String] {
        var p = properties
        if let level = delayLevel, level > 0 { p[MessageProperties.delay] = String(level) }
        return p
    }
}
