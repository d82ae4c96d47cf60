/// The one error of this module: which etcd operation failed, against which endpoint, and why.
public struct EtcdError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No connection, a reset, or no answer within the request timeout: the next endpoint is tried.
        case unreachable(String)
        /// etcd answered with a gRPC status (`code` 5 = NotFound, e.g. an expired lease).
        case server(code: Int, message: String)
        /// A non-JSON or unexpected answer.
        case malformed(String)
    }

    /// `"kv/range"`, `"lease/keepalive"`, ...
    public var operation: String
    /// `"http://host:port"`, or every endpoint joined by `;` when all of them failed.
    public var endpoint: String
    public var kind: Kind

    public init(operation: String, endpoint: String, kind: Kind) {
        self.operation = operation
        self.endpoint = endpoint
        self.kind = kind
    }

    /// gRPC NotFound: the lease (or key) no longer exists.
    public var isNotFound: Bool {
        if case .server(5, _) = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case let .unreachable(why): "etcd \(operation) at \(endpoint): unreachable (\(why))"
        case let .server(code, message): "etcd \(operation) at \(endpoint): code \(code): \(message)"
        case let .malformed(why): "etcd \(operation) at \(endpoint): malformed answer (\(why))"
        }
    }
}
