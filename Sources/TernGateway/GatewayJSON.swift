import Foundation
import TernClient
import TernMessage

/// The JSON bodies the gateway answers with (the schemas of /openapi.json).
enum GatewayJSON {
    struct SendResultItem: Codable {
        /// The message id RocketMQ clients show (UNIQ_KEY) for a single send; the broker's offset message id
        /// for a batch item.
        var msgId: String
        var offsetMsgId: String
        var queueId: Int
        var queueOffset: Int64
        var status: String
    }

    struct BatchResult: Codable {
        var messages: [SendResultItem]
    }

    struct MessageItem: Codable {
        var handle: String
        var msgId: String
        var topic: String
        var queueId: Int
        var queueOffset: Int64
        /// The body as UTF-8 text (invalid sequences replaced) and byte for byte.
        var body: String
        var bodyBase64: String
        var tags: String?
        var keys: [String]
        var properties: [String: String]
        var reconsumeTimes: Int
        var bornTimestamp: Int64
        var storeTimestamp: Int64
    }

    struct ReceiveResult: Codable {
        var messages: [MessageItem]
    }

    struct HandlesRequest: Codable {
        var group: String
        var handles: [String]
        /// Nack only: RocketMQ delay level of the retry (0: the broker's schedule; -1: straight to the DLQ).
        var delayLevel: Int?
        /// Nack only: deliveries after which the message goes to `%DLQ%<group>` (default: the group's retryMaxTimes).
        var maxReconsumeTimes: Int?
    }

    struct HandleOutcome: Codable {
        var handle: String
        var ok: Bool
        var error: String?
    }

    struct HandlesResult: Codable {
        var results: [HandleOutcome]
    }

    static func item(_ d: Delivery) -> MessageItem {
        let m = d.message
        // A retry shows as the message of its original topic, as RocketMQ clients present it.
        let topic = m.properties[GroupConsumer.retryTopicProperty] ?? m.topic
        return MessageItem(handle: d.handle.text, msgId: m.uniqueKey ?? m.msgId, topic: topic, queueId: Int(m.queueId),
                           queueOffset: m.queueOffset, body: String(decoding: m.body, as: UTF8.self),
                           bodyBase64: Data(m.body).base64EncodedString(), tags: m.tags, keys: m.keys,
                           properties: m.properties, reconsumeTimes: Int(m.reconsumeTimes),
                           bornTimestamp: m.bornTimestamp, storeTimestamp: m.storeTimestamp)
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
