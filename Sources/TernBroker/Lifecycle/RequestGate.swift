import NIOConcurrencyHelpers
import NIOCore
import TernOps
import TernRemoting
import TernTransport

/// The broker's request entry: lets the server bind before the processors exist (they need the bound port),
/// and refuses new requests once shutdown began, so in-flight work drains instead of growing.
///
/// States: starting (SYSTEM_BUSY "broker is starting") → open → closed (SYSTEM_BUSY "broker is shutting
/// down"; clients retry elsewhere). Requests already handed to a processor finish normally.
final class RequestGate: RemotingRequestHandler {
    private enum State {
        case starting
        case open(BrokerRequestHandler)
        case closed
    }
    private let state = NIOLockedValueBox(State.starting)
    /// Request metrics (rpc latency, counts per read burst); nil with metrics off.
    private let metrics: BrokerMetrics?

    init(metrics: BrokerMetrics? = nil) { self.metrics = metrics }

    /// Every connection, also one accepted while starting, counts its requests in its own read-burst tally.
    func makeResponseObserver(on eventLoop: any EventLoop) -> (any RemotingResponseObserver)? {
        metrics?.burstTally(on: eventLoop)
    }

    func open(_ handler: BrokerRequestHandler) { state.withLockedValue { $0 = .open(handler) } }
    func close() { state.withLockedValue { $0 = .closed } }

    private var handler: BrokerRequestHandler? {
        state.withLockedValue { s in if case .open(let h) = s { h } else { nil } }
    }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let current = state.withLockedValue { $0 }
        switch current {
        case .open(let h): h.handle(request, responder: responder)
        case .starting: responder.respond(code: ResponseCode.systemBusy, remark: "broker is starting")
        case .closed: responder.respond(code: ResponseCode.systemBusy, remark: "broker is shutting down")
        }
    }

    func connectionClosed(_ connection: RemotingConnection) {
        handler?.connectionClosed(connection)
    }
}

extension StopService {
    /// The remoting server, stopped first: new requests refused, no new connections (open ones stay until
    /// the event loops stop, so answers still in flight reach their clients).
    static func remotingServer(_ server: RemotingServer, gate: RequestGate, events: LifecycleEvents?) -> StopService {
        StopService(name: "remoting-server", events: events) {
            gate.close()
            await server.stop()
        }
    }

    /// The processors' in-flight work, stopped right after the server: suspended pulls (the long-poll holds)
    /// answered, queued send-backs finished, the processors' own timers stopped.
    static func requests(_ handler: BrokerRequestHandler, events: LifecycleEvents?) -> StopService {
        StopService(name: "requests", events: events) { handler.shutdown() }
    }
}
