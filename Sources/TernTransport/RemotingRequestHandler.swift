import NIOCore
import TernRemoting

/// What a server (or a client that accepts pushed requests) does with inbound request frames.
///
/// `handle` runs on the connection's event loop, so it must not block: long work is handed off and answered
/// later through the ``RemotingResponder``, which may be used from any thread, exactly once.
public protocol RemotingRequestHandler: Sendable {
    func handle(_ request: RemotingCommand, responder: RemotingResponder)
    /// The connection became active (server side: accepted).
    func connectionOpened(_ connection: RemotingConnection)
    /// The connection closed; pending requests on it have already failed.
    func connectionClosed(_ connection: RemotingConnection)
    /// A read burst of `connection` began / ended, on its event loop: the requests between were delivered
    /// together, and answers written on the loop meanwhile are written after `readBurstEnded` (metrics per burst).
    func readBurstBegan(_ connection: RemotingConnection)
    func readBurstEnded(_ connection: RemotingConnection)
}

extension RemotingRequestHandler {
    public func connectionOpened(_ connection: RemotingConnection) {}
    public func connectionClosed(_ connection: RemotingConnection) {}
    public func readBurstBegan(_ connection: RemotingConnection) {}
    public func readBurstEnded(_ connection: RemotingConnection) {}
}

/// Told of every answer a ``RemotingResponder`` writes (request metrics). Called on the answering thread:
/// must be quick and must not block.
public protocol RemotingResponseObserver: Sendable {
    func answered(requestCode: Int, responseCode: Int, receivedNanos: UInt64)
}

/// Answers one request. Sets the response's opaque, response bit and serialize type from the request, and
/// drops the answer of a one-way request (the peer expects none; Java's leaking error replies confuse clients).
public struct RemotingResponder: Sendable {
    public let connection: RemotingConnection
    public let opaque: Int32
    public let serializeType: RemotingSerializeType
    public let isOneway: Bool
    /// Request code, kept for logging and metrics.
    public let requestCode: Int
    /// Set by a server that measures its answers; `receivedNanos` is when it took the request (uptime ns).
    public var observer: (any RemotingResponseObserver)?
    public var receivedNanos: UInt64 = 0

    public init(connection: RemotingConnection, request: RemotingCommand) {
        self.connection = connection
        self.opaque = request.opaque
        self.serializeType = request.serializeType
        self.isOneway = request.isOneway
        self.requestCode = request.code
    }

    public func respond(_ response: RemotingCommand) {
        if isOneway { return }
        var r = response
        r.opaque = opaque
        r.serializeType = serializeType
        r.isResponse = true
        r.isOneway = false
        connection.write(r)
        observer?.answered(requestCode: requestCode, responseCode: r.code, receivedNanos: receivedNanos)
    }

    /// Shorthand: a response with `code`, `remark` and optional fields / body.
    public func respond(code: Int, remark: String? = nil, extFields: RemotingExtFields = [:], body: ByteBuffer? = nil) {
        respond(RemotingCommand(code: code, flag: .response, remark: remark, extFields: extFields, body: body))
    }
}
