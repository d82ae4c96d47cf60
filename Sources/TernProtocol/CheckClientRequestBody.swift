/// CHECK_CLIENT_CONFIG (46) body: a Java consumer asks whether the broker accepts a non-TAG subscription
/// before it starts (`MQClientInstance.checkClientInBroker`).
public struct CheckClientRequestBody: Codable, Sendable, Equatable {
    public var clientId: String?
    public var group: String?
    public var subscriptionData: SubscriptionData?

    public init(clientId: String?, group: String?, subscriptionData: SubscriptionData?) {
        self.clientId = clientId
        self.group = group
        self.subscriptionData = subscriptionData
    }
}
