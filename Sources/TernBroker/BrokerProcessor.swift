import NIOCore
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
/// Every request passes the admission chain first (built once, here); flow control then runs what was
/// admitted (send-backs on their own executor).
final class BrokerRequestHandler: RemotingRequestHandler {
    private let table: [Int: any BrokerProcessor]
    private let processors: [any BrokerProcessor]
    private let admission: AdmissionChain
    /// Runs admitted requests (nil: on the event loop, straight to the processor).
    private let flow: FlowControl?
    /// Slows connections whose requests keep being refused NO_PERMISSION (ACL).
    private let refusals = RefusalBackoff()

    /// `gates` run in order in front of every processor; `flow` adds its own gates after them.
    init(processors: [any BrokerProcessor], gates: [any AdmissionGate] = [], flow: FlowControl? = nil) {
        var table: [Int: any BrokerProcessor] = [:]
        for p in processors {
            for code in p.codes {
                precondition(table[code] == nil, "request code \(code) claimed by two processors")
                table[code] = p
            }
        }
        self.table = table
        self.processors = processors
        self.admission = AdmissionChain(gates + (flow?.admissionGates ?? []), knownCodes: table.keys)
        self.flow = flow
    }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        guard let p = table[request.code] else {
            responder.respond(code: ResponseCode.requestCodeNotSupported, remark: " request type \(request.code) not supported")
            return
        }
        if admission.isOpen(for: request.code) { return run(request, responder, p) }
        admit(request, responder, p)
    }

    private func admit(_ request: RemotingCommand, _ responder: RemotingResponder, _ p: any BrokerProcessor) {
        let connection = responder.connection
        // The closure (a heap context) only while some connection has refusals on record.
        if refusals.isTracking, refusals.holds(connection, { [self] in admitNow(request, responder, p) }) { return }
        admitNow(request, responder, p)
    }

    private func admitNow(_ request: RemotingCommand, _ responder: RemotingResponder, _ p: any BrokerProcessor) {
        let connection = responder.connection
        var candidate = AdmissionRequest(code: request.code, extFields: request.extFields,
                                         remoteAddress: connection.remoteAddress,
                                         arrivalNanos: connection.readBurstStartNanos, body: request.body)
        switch admission.admit(&candidate, nowNanos: FlowControl.now()) {
        case .admit:
            refusals.admitted(connection)
            var request = request
            request.extFields = candidate.extFields
            run(request, responder, p)
        case .refuse(let code, let remark):
            responder.respond(code: code, remark: remark)
            if code == ResponseCode.noPermission { refusals.refused(connection) }
        case .retry(let nanos):
            connection.channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(nanos))) { [self] in
                admit(request, responder, p)
            }
        }
    }

    private func run(_ request: RemotingCommand, _ responder: RemotingResponder, _ p: any BrokerProcessor) {
        if let flow { return flow.run(request, responder, p) }
        p.handle(request, responder: responder)
    }

    func connectionClosed(_ connection: RemotingConnection) {
        refusals.closed(connection)
        for p in processors { p.connectionClosed(connection) }
    }

    func shutdown() {
        for p in processors { p.shutdown() }
    }
}
