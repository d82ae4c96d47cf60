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
    /// The observer of one new connection's answers and read bursts (request metrics), made once before the
    /// connection's first read, on `eventLoop` (the connection's); nil: answers are not observed.
    func makeResponseObserver(on eventLoop: any EventLoop) -> (any RemotingResponseObserver)?
}

extension RemotingRequestHandler {
    public func connectionOpened(_ connection: RemotingConnection) {}
    public func connectionClosed(_ connection: RemotingConnection) {}
    public func makeResponseObserver(on eventLoop: any EventLoop) -> (any RemotingResponseObserver)? { nil }
}

/// Told of every answer a ``RemotingResponder`` writes (request metrics). `answered` is called on the answering
/// thread; the burst hooks on the connection's event loop: a read burst began / ended, the requests between were
/// delivered together, and answers written on the loop meanwhile are written after `readBurstEnded`. All must be
/// quick and must not block.
public protocol RemotingResponseObserver: AnyObject, Sendable {
    func answered(requestCode: Int, responseCode: Int, receivedNanos: UInt64)
    func readBurstBegan(startNanos: UInt64)
    func readBurstEnded()
}

extension RemotingResponseObserver {
    public func readBurstBegan(startNanos: UInt64) {}
    public func readBurstEnded() {}
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
    /// When the connection took the request (uptime ns), set when its answers are observed
    /// (`connection.responseObserver`, read at the answer: a copy of the responder then retains nothing more):
    /// the start of the read burst that delivered it.
    public var receivedNanos: UInt64 = 0

    public init(connection: RemotingConnection, request: RemotingCommand) {
        self.connection = connection
        self.opaque = request.opaque
        self.serializeType = request.serializeType
        self.isOneway = request.isOneway
        self.requestCode = request.code
        if connection.responseObserver != nil { receivedNanos = connection.readBurstStartNanos }
    }

    public func respond(_ response: RemotingCommand) {
        if isOneway { return }
        var r = response
        r.opaque = opaque
        r.serializeType = serializeType
        r.isResponse = true
        r.isOneway = false
        connection.write(r)
        connection.responseObserver?.answered(requestCode: requestCode, responseCode: r.code, receivedNanos: receivedNanos)
    }

    /// Shorthand: a response with `code`, `remark` and optional fields / body.
    public func respond(code: Int, remark: String? = nil, extFields: RemotingExtFields = [:], body: ByteBuffer? = nil) {
        respond(RemotingCommand(code: code, flag: .response, remark: remark, extFields: extFields, body: body))
    }
}
