import Foundation

/// Names one delivery of one message: the queue it was read from (`topic` is `%RETRY%<group>` for a retry),
/// its queue offset, and the delivery number the gateway gave it. A handle is good for one ack or nack until
/// the message is delivered again (after its invisibility ran out), which makes a new handle.
///
/// Text form: base64url (no padding) of `v1 <delivery> <queueId> <queueOffset> <brokerName> <topic>`, space
/// separated (topic and broker names cannot contain spaces).
public struct ReceiptHandle: Sendable, Hashable {
    public var topic: String
    public var brokerName: String
    public var queueId: Int
    public var queueOffset: Int64
    public var delivery: UInt64

    public init(topic: String, brokerName: String, queueId: Int, queueOffset: Int64, delivery: UInt64) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.delivery = delivery
    }

    public var text: String {
        let plain = "v1 \(delivery) \(queueId) \(queueOffset) \(brokerName) \(topic)"
        return Data(plain.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Parses ``text``; nil for anything else.
    public init?(text: String) {
        guard text.utf8.count <= 1024 else { return nil }
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: b64), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "v1", let delivery = UInt64(parts[1]), let queueId = Int(parts[2]),
              let offset = Int64(parts[3]), !parts[4].isEmpty, !parts[5].isEmpty else { return nil }
        self.init(topic: String(parts[5]), brokerName: String(parts[4]), queueId: queueId, queueOffset: offset,
                  delivery: delivery)
    }
}
