/// Failures of broker startup and configuration.
public enum BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    case badConfigFile(path: String, reason: String)
    case badConfigValue(key: String, value: String, reason: String)
    case io(String)

    public var description: String {
        switch self {
        case let .badConfigFile(path, reason): "bad configuration file \(path): \(reason)"
        case let .badConfigValue(key, value, reason): "bad value \"\(value)\" for \(key): \(reason)"
        case let .io(why): why
        }
    }
}
