/// Failures the client reports besides transport errors (``TransportError`` from TernTransport passes through).
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name server answered TOPIC_NOT_EXIST for the topic.
    case topicNotFound(String)
    /// The route has no writable (`write` true) or readable queue on a broker with a master address.
    case noQueue(topic: String, write: Bool)
    /// No master address is registered for this broker name.
    case noMasterAddress(String)
    /// A server answered with a code that is not success for this request.
    case response(code: Int, remark: String?, address: String)
    /// A response lacked a header field or carried an unreadable body.
    case badResponse(String)
    /// The caller passed something the protocol cannot carry.
    case invalidArgument(String)
    /// No configured name server could be reached (`reason`: the last transport error).
    case nameServerUnreachable([String], reason: String)
    /// No reply to a request message (``Producer/request(topic:body:tags:keys:properties:timeout:)``) in time.
    case replyTimeout(correlationId: String)

    public var description: String {
        switch self {
        case .topicNotFound(let topic): "topic \(topic) does not exist (no route on the name server)"
        case .noQueue(let topic, let write): "topic \(topic) has no \(write ? "writable" : "readable") queue on a master broker"
        case .noMasterAddress(let broker): "broker \(broker) has no master address"
        case .response(let code, let remark, let address):
            "\(address) answered code \(code)\(Self.codeNames[code].map { " (\($0))" } ?? "")"
                + (remark.map { $0.isEmpty ? "" : ": \($0)" } ?? "")
        case .badResponse(let reason): "bad response: \(reason)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .nameServerUnreachable(let servers, let reason):
            "name server \(servers.joined(separator: ";")) unreachable: \(reason)"
        case .replyTimeout(let id): "no reply to request \(id) in time"
        }
    }

    /// Names of the response codes an operator is likely to meet.
    private static let codeNames: [Int: String] = [
        1: "SYSTEM_ERROR", 2: "SYSTEM_BUSY", 3: "REQUEST_CODE_NOT_SUPPORTED", 13: "MESSAGE_ILLEGAL",
        14: "SERVICE_NOT_AVAILABLE", 16: "NO_PERMISSION", 17: "TOPIC_NOT_EXIST", 18: "TOPIC_EXIST_ALREADY",
        22: "QUERY_NOT_FOUND", 23: "SUBSCRIPTION_PARSE_FAILED", 24: "SUBSCRIPTION_NOT_EXIST",
        26: "SUBSCRIPTION_GROUP_NOT_EXIST", 206: "CONSUMER_NOT_ONLINE", 215: "FLOW_CONTROL",
    ]
}
