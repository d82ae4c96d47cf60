import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
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
/// Timeouts: one timer per connection, armed for the earliest deadline of its pending requests
/// (`PendingRequests`), never one timer per request: cancelling one of NIO's scheduled tasks is linear in the
/// loop's timers, which made a load generator with 10^5 requests in flight spin in `cancel`.
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
        var pending = PendingRequests()
        var closed = false
    }
    private let state = NIOLockedValueBox(State())
    private static let ids = NIOLockedValueBox(0)

    /// Write coalescing: while the pipeline delivers a burst of inbound frames (between the first
    /// `channelRead` and `channelReadComplete`), frames written from the event loop are only queued, and one
    /// flush (one `writev`) sends them all at the end of the burst. Outside a burst every write flushes.
    /// Both flags are touched only on the channel's event loop (checked with `inEventLoop`); atomics make the
    /// class `Sendable` without a lock on the hot path.
    private let inReadBurst = Atomic<Bool>(false)
    /// ``coalesceWritesUntilTaskEnds()`` holds writes as a read burst does, until its queued flush runs.
    private let inTaskBurst = Atomic<Bool>(false)
    private let flushPending = Atomic<Bool>(false)
    /// Uptime (ns) when the current read burst began: every frame of the burst was in the socket by then, so
    /// `now - readBurstStartNanos` is how long a frame has waited behind the burst's earlier frames (fast failure).
    private let burstStart = Atomic<UInt64>(0)
    public var readBurstStartNanos: UInt64 { burstStart.load(ordering: .relaxed) }
    /// `ReadPauseReason` bits holding reads (RemotingConnection+ReadGate.swift); written on the event loop only.
    let readGate = Atomic<UInt8>(0)
    /// Frames without a body answered on the event loop during a read burst, encoded one after another into one
    /// buffer that is written when the burst ends (or before any other write, keeping the order): one buffer and
    /// one pipeline write per burst instead of per response. Event loop only (the box checks).
    private let burstOut: NIOLoopBoundBox<ByteBuffer?>
    static let burstOutCapacity = 16 * 1024
    static let headCapacity = 512
    /// A request handler's scratch bytes kept between two requests of this connection (event loop only, the box
    /// checks): ``takeSpareBytes()`` / ``keepSpareBytes(_:)``.
    private let spareBytes: NIOLoopBoundBox<[UInt8]?>
    /// Larger scratch arrays are not kept (a connection would hold them while idle).
    static let spareBytesCapacityMax = 4096
    /// Observes this connection's answers and read bursts (server side, metrics on); nil: none.
    public let responseObserver: (any RemotingResponseObserver)?

    init(channel: any Channel, responseObserver: (any RemotingResponseObserver)? = nil) {
        self.channel = channel
        self.responseObserver = responseObserver
        self.burstOut = .makeEmptyBox(valueType: ByteBuffer.self, eventLoop: channel.eventLoop)
        self.spareBytes = .makeEmptyBox(valueType: [UInt8].self, eventLoop: channel.eventLoop)
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
        let deadline = NIODeadline.now() + timeout
        let opaque: Int32? = state.withLockedValue { s in
            if s.closed { return nil }
            s.nextOpaque = s.nextOpaque == Int32.max ? 1 : s.nextOpaque + 1
            if s.pending.insert(s.nextOpaque, promise, code: command.code, deadline: deadline) {
                s.pending.arm(at: deadline, loop.scheduleTask(deadline: deadline) { [weak self] in self?.sweepTimeouts() })
            }
            return s.nextOpaque
        }
        guard let opaque else {
            promise.fail(TransportError.connectionClosed(remoteAddress))
            return promise.futureResult
        }
        command.opaque = opaque
        // No write promise: a write fails only on a channel that is closing, and its close fails every pending
        // request (`failAllPending`, and `closed` keeps new ones out), so a promise and a callback per request
        // (a third of a sending client's heap allocations) bought nothing but the write's own error in place of
        // `connectionClosed`. A frame that cannot be encoded fails here.
        if let error = send(command, promise: nil) { removePending(opaque)?.fail(error) }
        return promise.futureResult
    }

    /// Fails the requests whose deadline passed and re-arms the sweep for the earliest one left (event loop).
    private func sweepTimeouts() {
        let loop = channel.eventLoop
        let expired = state.withLockedValue { s in
            let (expired, next) = s.pending.expire(now: .now())
            if let next { s.pending.arm(at: next, loop.scheduleTask(deadline: next) { [weak self] in self?.sweepTimeouts() }) }
            return expired
        }
        for e in expired { e.promise.fail(TransportError.timeout(code: e.code, address: remoteAddress)) }
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
        send(command, promise: nil)
    }

    /// Writes a response (or anything else already complete) as is.
    public func write(_ command: RemotingCommand) {
        send(command, promise: nil)
    }

    /// Encodes the frame here and writes bytes: a `RemotingCommand` in the pipeline is boxed into an `NIOAny`
    /// (too large to sit inline) and passes an encoder handler, both per response on the send path. A body goes
    /// out as its own buffer after the head (one gathering write, no copy of a pull's messages into the frame).
    /// Returns the error of a frame that cannot be encoded (nothing is written then), after failing `promise`.
    @discardableResult
    private func send(_ command: RemotingCommand, promise: EventLoopPromise<Void>?) -> (any Error)? {
        let loop = channel.eventLoop
        if promise == nil, command.body.map({ $0.readableBytes == 0 }) ?? true, loop.inEventLoop, coalescing {
            // Taken out of the box while written, so it stays uniquely referenced (no copy on write).
            var out = burstOut.value.take() ?? channel.allocator.buffer(capacity: Self.burstOutCapacity)
            defer { burstOut.value = out }
            // Doubling, not the frame's exact need: a long burst would otherwise reallocate per frame.
            if out.writableBytes < 1024 { out.reserveCapacity(2 * out.capacity) }
            // On failure the buffer is left as it was (RemotingFrame).
            do {
                try RemotingFrame.writeHead(command, into: &out)
            } catch {
                return error
            }
            flushPending.store(true, ordering: .relaxed)
            return nil
        }
        // Room for the frame codec's up-front reserve (prefix, mark and 256 header bytes): a smaller buffer was
        // reallocated for every frame.
        var head = channel.allocator.buffer(capacity: Self.headCapacity)
        do {
            try RemotingFrame.writeHead(command, into: &head)
        } catch {
            promise?.fail(error)
            return error
        }
        let body = command.body.flatMap { $0.readableBytes > 0 ? $0 : nil }
        guard loop.inEventLoop else {
            // One hop for head and body together: no other writer's frame can land between them.
            loop.execute { [head] in self.writeOnLoop(head, body, flush: true, promise: promise) }
            return nil
        }
        let inBurst = coalescing
        writeOnLoop(head, body, flush: !inBurst, promise: promise)
        if inBurst { flushPending.store(true, ordering: .relaxed) }
        return nil
    }

    private func writeOnLoop(_ head: ByteBuffer, _ body: ByteBuffer?, flush: Bool, promise: EventLoopPromise<Void>?) {
        writeBurstOut()
        if let body {
            channel.write(head, promise: nil)
            channel.write(body, promise: promise)
        } else {
            channel.write(head, promise: promise)
        }
        if flush { channel.flush() }
    }

    private var coalescing: Bool { inReadBurst.load(ordering: .relaxed) || inTaskBurst.load(ordering: .relaxed) }

    /// On the event loop: this connection's writes are coalesced, as in a read burst, until the task running now
    /// ends; then one flush sends them (answers released together, e.g. by one replication ack, leave in one
    /// `writev` instead of one each). Elsewhere it does nothing.
    public func coalesceWritesUntilTaskEnds() {
        guard channel.eventLoop.inEventLoop, !inTaskBurst.exchange(true, ordering: .relaxed) else { return }
        channel.eventLoop.execute {
            self.inTaskBurst.store(false, ordering: .relaxed)
            guard !self.inReadBurst.load(ordering: .relaxed) else { return }  // the read burst's end flushes
            self.writeBurstOut()
            if self.flushPending.exchange(false, ordering: .relaxed) { self.channel.flush() }
        }
    }

    // MARK: - Called by the pipeline handler, on the event loop

    /// True when this frame begins a burst.
    func readBurstStarted() -> Bool {
        if inReadBurst.load(ordering: .relaxed) { return false }
        burstStart.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
        inReadBurst.store(true, ordering: .relaxed)
        return true
    }

    /// Ends the burst; true when queued writes need the flush.
    func readBurstEnded() -> Bool {
        inReadBurst.store(false, ordering: .relaxed)
        writeBurstOut()
        return flushPending.exchange(false, ordering: .relaxed)
    }

    /// Writes the frames coalesced so far (event loop only).
    private func writeBurstOut() {
        guard let out = burstOut.value else { return }
        burstOut.value = nil
        channel.write(out, promise: nil)
    }

    /// The array kept by ``keepSpareBytes(_:)``, emptied with its capacity kept (no allocation to refill it
    /// when nothing else still holds it), or a new empty one (always off the connection's event loop).
    public func takeSpareBytes() -> [UInt8] {
        guard channel.eventLoop.inEventLoop, var bytes = spareBytes.value.take() else { return [] }
        bytes.removeAll(keepingCapacity: true)
        return bytes
    }

    /// Keeps `bytes` for the next ``takeSpareBytes()``; call when the request that used them is done (a copy
    /// still held elsewhere only costs the next taker a new allocation). Ignored off the event loop.
    public func keepSpareBytes(_ bytes: [UInt8]) {
        guard bytes.capacity > 0, bytes.capacity <= Self.spareBytesCapacityMax, channel.eventLoop.inEventLoop else { return }
        spareBytes.value = bytes
    }

    public func close() {
        channel.close(promise: nil)
    }

    func removePending(_ opaque: Int32) -> EventLoopPromise<RemotingCommand>? {
        state.withLockedValue { $0.pending.remove(opaque) }
    }

    /// Requests awaiting an answer (tests).
    public var pendingCount: Int { state.withLockedValue { $0.pending.count } }

    func failAllPending() {
        let pending = state.withLockedValue { s -> [EventLoopPromise<RemotingCommand>] in
            s.closed = true
            return s.pending.removeAll()
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
