import Logging
import NIOConcurrencyHelpers
import NIOCore
import TernRemoting

/// One TCP connection speaking RocketMQ remoting, on either side: the broker's view of a client, a client's
/// view of a broker or name server.
///
/// Requests go both ways on one stream (the broker pushes `NOTIFY_CONSUMER_IDS_CHANGED` and
/// `CHECK_TRANSACTION_STATE` to clients), so every connection can both send requests (``request(_:timeout:)``,
/// ``sendOneway(_:)``) and receive them (through its ``RemotingRequestHandler``).
///
/// Invariant: a response frame completes the pending request with the same `opaque` exactly once; a frame with
/// an unknown opaque (late, after a timeout) is dropped. Pending requests fail with
/// ``TransportError/connectionClosed`` when the channel closes.
///
/// Thread-safety: `Sendable`. All mutable state (the pending table, the opaque counter) is behind `state`'s lock;
/// `Channel` methods are thread-safe.
public final class RemotingConnection: Sendable, Hashable, CustomStringConvertible {
    public let channel: any Channel
    /// Process-unique id, stable for the connection's life (used as a map key by the broker).
    public let id: Int
    /// `ip:port` of the peer as seen by the socket ("?" when unknown).
    public let remoteAddress: String

    private struct State {
        var nextOpaque: Int32 = 0
        var pending: [Int32: EventLoopPromise<RemotingCommand>] = [:]
        var closed = false
    }
    private let state = NIOLockedValueBox(State())
    private static let ids = NIOLockedValueBox(0)

    init(channel: any Channel) {
        self.channel = channel
        self.id = Self.ids.withLockedValue { $0 += 1; return $0 }
        if let address = channel.remoteAddress, let ip = address.ipAddress, let port = address.port {
            self.remoteAddress = "\(ip):\(port)"
        } else {
            self.remoteAddress = "?"
        }
    }

    public var description: String { "connection#\(id)(\(remoteAddress))" }
    public var isActive: Bool { channel.isActive }

    public static func == (a: RemotingConnection, b: RemotingConnection) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Sends `request` and completes with the response whose opaque matches, or fails with
    /// ``TransportError/timeout`` after `timeout`. The request's `opaque` and flags are set here.
    public func request(_ request: RemotingCommand, timeout: TimeAmount) -> EventLoopFuture<RemotingCommand> {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: RemotingCommand.self)
        var command = request
        command.isResponse = false
        command.isOneway = false
        let opaque: Int32? = state.withLockedValue { s in
            if s.closed { return nil }
            s.nextOpaque = s.nextOpaque == Int32.max ? 1 : s.nextOpaque + 1
            s.pending[s.nextOpaque] = promise
            return s.nextOpaque
        }
        guard let opaque else {
            promise.fail(TransportError.connectionClosed(remoteAddress))
            return promise.futureResult
        }
        command.opaque = opaque
        let timer = loop.scheduleTask(in: timeout) { [weak self] in
            if let p = self?.removePending(opaque) { p.fail(TransportError.timeout(code: command.code, address: self?.remoteAddress ?? "?")) }
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush(command).whenFailure { [weak self] error in
            self?.removePending(opaque)?.fail(error)
        }
        return promise.futureResult
    }

    /// `async` form of ``request(_:timeout:)``.
    public func request(_ request: RemotingCommand, timeout: TimeAmount) async throws -> RemotingCommand {
        try await self.request(request, timeout: timeout).get()
    }

    /// Sends `request` with the one-way bit; nothing is awaited.
    public func sendOneway(_ request: RemotingCommand) {
        var command = request
        command.isResponse = false
        command.isOneway = true
        command.opaque = state.withLockedValue { s in
            s.nextOpaque = s.nextOpaque == Int32.max ? 1 : s.nextOpaque + 1
            return s.nextOpaque
        }
        channel.writeAndFlush(command, promise: nil)
    }

    /// Writes a response (or anything else already complete) as is.
    public func write(_ command: RemotingCommand) {
        channel.writeAndFlush(command, promise: nil)
    }

    public func close() {
        channel.close(promise: nil)
    }

    // MARK: - Called by the pipeline handler

    func removePending(_ opaque: Int32) -> EventLoopPromise<RemotingCommand>? {
        state.withLockedValue { $0.pending.removeValue(forKey: opaque) }
    }

    func failAllPending() {
        let pending = state.withLockedValue { s -> [EventLoopPromise<RemotingCommand>] in
            s.closed = true
            defer { s.pending = [:] }
            return Array(s.pending.values)
        }
        for p in pending { p.fail(TransportError.connectionClosed(remoteAddress)) }
    }
}

/// Transport failures seen by the side that sent a request.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case timeout(code: Int, address: String)
    case connectionClosed(String)
    case connectFailed(String, reason: String)
    case badAddress(String)

    public var description: String {
        switch self {
        case .timeout(let code, let address): "request code \(code) to \(address) timed out"
        case .connectionClosed(let address): "connection to \(address) closed"
        case .connectFailed(let address, let reason): "cannot connect to \(address): \(reason)"
        case .badAddress(let address): "bad address \"\(address)\" (expected host:port)"
        }
    }
}
