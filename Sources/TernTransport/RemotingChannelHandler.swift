import Logging
import NIOCore
import TernRemoting

/// Last handler of every remoting pipeline: splits the inbound bytes into frames, routes responses to pending
/// requests and requests to the ``RemotingRequestHandler``; closes the connection on a framing error or after
/// `idleTimeout` without inbound bytes.
///
/// Frames are decoded here, not by a `ByteToMessageHandler` in front: a command passed along the pipeline is
/// boxed into an `NIOAny` (a heap allocation per request). After a framing error later bytes are dropped.
final class RemotingChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let handler: (any RemotingRequestHandler)?
    private let logger: Logger
    private let onActive: (@Sendable (RemotingConnection) -> Void)?
    /// Server side only: a client that paused its reads too would deadlock with a server doing the same.
    private let pausesOnUnreadResponses: Bool
    private(set) var connection: RemotingConnection?
    /// Server side: requests read while the outbound buffer is above its high watermark. Their bytes are already
    /// in memory; holding them undispatched keeps one read burst (up to 16 reads) from turning into thousands of
    /// responses nobody reads. Dispatched in order once the peer drains its responses.
    private var heldRequests = CircularBuffer<RemotingCommand>()
    private let frames: NIOSingleStepByteToMessageProcessor<RemotingFrameDecoder>
    /// A request dispatched here hands its extFields table back for the next frame (answered inline, as a send
    /// is, nothing else holds it by then and the next decode allocates no table).
    private let recycler: ExtFieldsRecycler
    /// A frame did not decode: the stream cannot be resynchronised, the connection is closing.
    private var framingFailed = false

    init(handler: (any RemotingRequestHandler)?, logger: Logger, frameSizeMax: Int, pausesOnUnreadResponses: Bool = false,
         onActive: (@Sendable (RemotingConnection) -> Void)? = nil) {
        let recycler = ExtFieldsRecycler()
        self.recycler = recycler
        self.frames = NIOSingleStepByteToMessageProcessor(RemotingFrameDecoder(frameSizeMax: frameSizeMax,
                                                                                recycler: recycler))
        self.handler = handler
        self.logger = logger
        self.pausesOnUnreadResponses = pausesOnUnreadResponses
        self.onActive = onActive
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { activate(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context)
        context.fireChannelActive()
    }

    private func activate(_ context: ChannelHandlerContext) {
        guard connection == nil else { return }
        let c = RemotingConnection(channel: context.channel,
                                   responseObserver: handler?.makeResponseObserver(on: context.eventLoop))
        connection = c
        handler?.connectionOpened(c)
        onActive?(c)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !framingFailed else { return }
        do {
            try frames.process(buffer: unwrapInboundIn(data)) { command in received(command, context: context) }
        } catch {
            framingFailed = true
            errorCaught(context: context, error: error)
        }
    }

    private func received(_ command: RemotingCommand, context: ChannelHandlerContext) {
        guard let connection else { return }
        if connection.readBurstStarted() { connection.responseObserver?.readBurstBegan(startNanos: connection.readBurstStartNanos) }
        if command.isResponse {
            connection.removePending(command.opaque)?.succeed(command)
            return
        }
        if pausesOnUnreadResponses, !heldRequests.isEmpty || !context.channel.isWritable {
            heldRequests.append(command)
            return
        }
        dispatch(command, connection)
        recycler.recycle(command.extFields)
    }

    private func dispatch(_ command: RemotingCommand, _ connection: RemotingConnection) {
        guard let handler else {
            // A client without a handler: answer requests it cannot serve so the peer does not wait.
            RemotingResponder(connection: connection, request: command)
                .respond(code: ResponseCode.requestCodeNotSupported, remark: " request type \(command.code) not supported")
            return
        }
        handler.handle(command, responder: RemotingResponder(connection: connection, request: command))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let connection {
            connection.responseObserver?.readBurstEnded()
            if connection.readBurstEnded() { context.flush() }
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        heldRequests.removeAll()
        if let connection {
            connection.responseObserver?.readBurstEnded()  // a burst cut short by an error gets no end of its own
            connection.failAllPending()
            handler?.connectionClosed(connection)
        }
        context.fireChannelInactive()
    }

    /// A peer that does not read its responses fills the outbound buffer: stop taking its requests until the
    /// buffer drains below the low watermark (NIO reports both crossings).
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if pausesOnUnreadResponses, let connection {
            if context.channel.isWritable {
                connection.resumeReading(.unreadResponses)
                // A dispatch may make the channel unwritable again (this is then re-entered and pauses).
                while context.channel.isWritable, let next = heldRequests.popFirst() { dispatch(next, connection) }
            } else {
                connection.pauseReading(.unreadResponses)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            logger.info("closing idle connection", metadata: ["peer": "\(connection?.remoteAddress ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Framing errors leave the stream unsynchronised: there is no opaque to answer, so close.
        logger.warning("closing connection after error", metadata: [
            "peer": "\(connection?.remoteAddress ?? "?")", "error": "\(error)",
        ])
        context.close(promise: nil)
    }
}

enum RemotingPipeline {
    /// TLS (when `tls` adds it), partial-frame guard (servers, which also pause on unread responses), idle
    /// close, then the frame decoder and dispatcher in one handler. Frames are encoded by `RemotingConnection`.
    static func configure(
        _ channel: any Channel,
        handler: (any RemotingRequestHandler)?,
        budget: ConnectionBudget? = nil,
        frameSizeMax: Int,
        idleTimeout: TimeAmount?,
        logger: Logger,
        tls: (any Channel) throws -> Void = { _ in },
        onActive: (@Sendable (RemotingConnection) -> Void)? = nil
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try tls(channel)
            try addHandlers(channel, handler: handler, budget: budget, frameSizeMax: frameSizeMax,
                            idleTimeout: idleTimeout, logger: logger, onActive: onActive)
        }
    }

    /// The handlers after TLS; on `channel`'s event loop.
    static func addHandlers(
        _ channel: any Channel,
        handler: (any RemotingRequestHandler)?,
        budget: ConnectionBudget? = nil,
        frameSizeMax: Int,
        idleTimeout: TimeAmount?,
        logger: Logger,
        onActive: (@Sendable (RemotingConnection) -> Void)? = nil
    ) throws {
        let sync = channel.pipeline.syncOperations
        if let budget { try sync.addHandler(PartialFrameGuard(budget: budget, logger: logger)) }
        if let idleTimeout {
            // Reads only: watching writes too (allTimeout) costs a promise and a callback per response, and
            // every client sends at least heartbeats, so a live peer is never read-idle that long.
            try sync.addHandler(IdleStateHandler(readTimeout: idleTimeout))
        }
        // No decoder or encoder handlers: RemotingChannelHandler splits frames, RemotingConnection writes
        // encoded frames (ByteBuffers).
        try sync.addHandler(RemotingChannelHandler(handler: handler, logger: logger, frameSizeMax: frameSizeMax,
                                                   pausesOnUnreadResponses: budget != nil, onActive: onActive))
    }
}
