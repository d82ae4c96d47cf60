import NIOConcurrencyHelpers
import NIOCore
import TernTransport

/// Connections by address, `perAddress` of them each, opened on first use and reopened when closed.
///
/// Invariant: a slot is `.connecting` from the moment one caller starts a connect until that attempt completes;
/// concurrent callers share its future, so an address never gets more than `perAddress` connections at once.
/// A failed attempt empties the slot, so the next request tries again (no back-off: callers decide about retries).
final class ConnectionPool: Sendable {
    private enum Slot {
        case empty
        case connecting(id: Int, EventLoopFuture<RemotingConnection>)
        case connected(RemotingConnection)
    }
    private struct Entry {
        var slots: [Slot]
        var next = 0
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var nextId = 0
        var closed = false
    }

    let group: any EventLoopGroup
    private let perAddress: Int
    private let connectTimeout: TimeAmount
    /// Serves requests the broker sends on these connections (check-backs, reply pushes).
    private let handler: (any RemotingRequestHandler)?
    private let tls: TLSClient?
    private let state = NIOLockedValueBox(State())

    init(group: any EventLoopGroup, perAddress: Int, connectTimeout: TimeAmount, handler: (any RemotingRequestHandler)? = nil,
         tls: TLSClient? = nil) {
        self.group = group
        self.handler = handler
        self.tls = tls
        self.perAddress = max(1, perAddress)
        self.connectTimeout = connectTimeout
    }

    /// A live connection to `address`, without allocating, when the next slot already holds one (hot path).
    func readyConnection(to address: String) -> RemotingConnection? {
        state.withLockedValue { s -> RemotingConnection? in
            guard var entry = s.entries[address] else { return nil }
            let i = entry.next
            guard case .connected(let c) = entry.slots[i], c.isActive else { return nil }
            entry.next = (i + 1) % perAddress
            s.entries[address] = entry
            return c
        }
    }

    /// A connection to `address` (the next slot round-robin), connecting if needed.
    func connection(to address: String) -> EventLoopFuture<RemotingConnection> {
        enum Pick { case ready(RemotingConnection), pending(EventLoopFuture<RemotingConnection>), connect(Int, Int, EventLoopPromise<RemotingConnection>), closed }
        let loop = group.next()
        let pick = state.withLockedValue { s -> Pick in
            if s.closed { return .closed }
            var entry = s.entries[address] ?? Entry(slots: Array(repeating: .empty, count: perAddress))
            let i = entry.next
            entry.next = (i + 1) % perAddress
            defer { s.entries[address] = entry }
            switch entry.slots[i] {
            case .connected(let c) where c.isActive: return .ready(c)
            case .connecting(_, let f): return .pending(f)
            default:
                s.nextId += 1
                let promise = loop.makePromise(of: RemotingConnection.self)
                entry.slots[i] = .connecting(id: s.nextId, promise.futureResult)
                return .connect(i, s.nextId, promise)
            }
        }
        switch pick {
        case .ready(let c): return loop.makeSucceededFuture(c)
        case .pending(let f): return f
        case .closed: return loop.makeFailedFuture(TransportError.connectionClosed(address))
        case .connect(let slot, let id, let promise):
            let attempt = RemotingClient.connect(to: address, group: loop, handler: handler, connectTimeout: connectTimeout,
                                                 tls: tls)
            attempt.whenComplete { result in
                let keep: Bool = self.state.withLockedValue { s in
                    guard var entry = s.entries[address], case .connecting(let current, _) = entry.slots[slot],
                          current == id else { return !s.closed }
                    switch result {
                    case .success(let c): entry.slots[slot] = s.closed ? .empty : .connected(c)
                    case .failure: entry.slots[slot] = .empty
                    }
                    s.entries[address] = entry
                    return !s.closed
                }
                if case .success(let c) = result, !keep { c.close() }
            }
            promise.completeWith(attempt)
            return promise.futureResult
        }
    }

    /// Closes every connection; later requests fail with ``TransportError/connectionClosed(_:)``.
    func close() {
        let connections = state.withLockedValue { s -> [RemotingConnection] in
            s.closed = true
            defer { s.entries = [:] }
            return s.entries.values.flatMap { $0.slots.compactMap { if case .connected(let c) = $0 { c } else { nil } } }
        }
        for c in connections { c.close() }
    }
}
