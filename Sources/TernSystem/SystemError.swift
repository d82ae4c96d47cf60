/// The one error type of TernSystem: which operation failed, on which path, with which errno.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public var operation: String
    public var path: String?
    public var errno: Int32
    public var message: String

    public init(operation: String, path: String?, errno: Int32, message: String) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.message = message
    }

    public var description: String {
        "\(operation)\(path.map { " \($0)" } ?? ""): \(message) (errno \(errno))"
    }
}
