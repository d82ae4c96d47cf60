/// A queue as clients name it (`MessageQueue`). `queueId` is a JSON number on the wire (strings tolerated).
/// A queue of a topic on one broker (`MessageQueue`), as lock bodies and clients name it.
public struct MessageQueue: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var description: String { "\(topic)@\(brokerName)#\(queueId)" }
    public var topic: String
    public var brokerName: String
    public var queueId: Int

    public init(topic: String, brokerName: String, queueId: Int) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        topic = try c.decodeIfPresent(String.self, forKey: .topic) ?? ""
        brokerName = try c.decodeIfPresent(String.self, forKey: .brokerName) ?? ""
        if let n = try? c.decode(Int.self, forKey: .queueId) {
            queueId = n
        } else {
            queueId = Int(try c.decode(String.self, forKey: .queueId)) ?? -1
        }
    }

    public static func < (a: MessageQueue, b: MessageQueue) -> Bool {
        (a.topic, a.brokerName, a.queueId) < (b.topic, b.brokerName, b.queueId)
    }
}

/// Body of LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42).
public struct LockBatchRequestBody: Codable, Sendable, Equatable {
    public var consumerGroup: String
    public var clientId: String
    public var mqSet: [MessageQueue]
    /// Java 4.9.x: lock on this broker only (no forwarding); we never forward.
    public var onlyThisBroker: Bool

    public init(consumerGroup: String, clientId: String, mqSet: [MessageQueue], onlyThisBroker: Bool = false) {
        self.consumerGroup = consumerGroup
        self.clientId = clientId
        self.mqSet = mqSet
        self.onlyThisBroker = onlyThisBroker
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        consumerGroup = try c.decodeIfPresent(String.self, forKey: .consumerGroup) ?? ""
        clientId = try c.decodeIfPresent(String.self, forKey: .clientId) ?? ""
        mqSet = try c.decodeIfPresent([MessageQueue].self, forKey: .mqSet) ?? []
        onlyThisBroker = (try? c.decodeIfPresent(Bool.self, forKey: .onlyThisBroker)) ?? false
    }
}

/// Response body of LOCK_BATCH_MQ: the queues granted.
public struct LockBatchResponseBody: Codable, Sendable, Equatable {
    public var lockOKMQSet: [MessageQueue]
    public init(lockOKMQSet: [MessageQueue]) { self.lockOKMQSet = lockOKMQSet }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lockOKMQSet = try c.decodeIfPresent([MessageQueue].self, forKey: .lockOKMQSet) ?? []
    }
}
