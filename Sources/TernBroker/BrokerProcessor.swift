import TernRemoting
import TernTransport

/// One group of request codes served by the broker. `handle` runs on the connection's event loop and must not
/// block for long; deferred answers (sync flush, long polling) go through the responder later.
public protocol BrokerProcessor: Sendable {
    /// Request codes this processor answers.
    var codes: [Int] { get }
    func handle(_ request: RemotingCommand, responder: RemotingResponder)
    func connectionClosed(_ connection: RemotingConnection)
    /// Called once when the broker stops (cancel timers, answer suspended requests).
    func shutdown()
}

extension BrokerProcessor {
    public func connectionClosed(_ connection: RemotingConnection) {}
    public func shutdown() {}
}

/// Routes each request to the processor that owns its code; unknown codes get REQUEST_CODE_NOT_SUPPORTED.
final class BrokerRequestHandler: RemotingRequestHandler {
    private let table: [Int: any BrokerProcessor]
    private let processors: [any BrokerProcessor]
    /// Rate limits and fast failure in front of every processor (nil: straight through).
    private let flow: FlowControl?

    init(processors: [any BrokerProcessor], flow: FlowControl? = nil) {
        var table: [Int: any BrokerProcessor] = [:]
        for p in processors {
            for code in p.codes {
                precondition(table[code] == nil, "request code \(code) claimed by two processors")
                table[code] = p
            }
        }
        self.table = table
        self.processors = processors
        self.flow = flow
    }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        guard let p = table[request.code] else {
            responder.respond(code: ResponseCode.requestCodeNotSupported, remark: " request type \(request.code) not supported")
            return
        }
        if let flow { return flow.admit(request, responder, p) }
        p.handle(request, responder: responder)
    }

    func connectionClosed(_ connection: RemotingConnection) {
        for p in processors { p.connectionClosed(connection) }
    }

    func shutdown() {
        for p in processors { p.shutdown() }
    }
}
