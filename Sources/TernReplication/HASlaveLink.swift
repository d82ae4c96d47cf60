import Logging
import NIOCore
import TernStorage

/// One link to the master on the slave, run entirely on its channel's event loop: each chunk is written at its
/// offset as it is decoded, and the new end is reported once per socket read burst (after every chunk that read
/// delivered), on connect, and every `heartbeatInterval`. Java's `HAClient` also reports after each processed
/// read; one report per chunk would cost a write per 32 KiB during a catch-up.
///
/// Ends (the reason completes ``finished``, then the channel closes): a chunk that does not start at the slave's
/// end (unless the slave holds nothing, as in RocketMQ), an invalid record, a hostile frame, `housekeepingInterval`
/// of silence, the master closing. Nothing is applied once the channel is no longer active, so a link closed
/// for a change of master applies none of the chunks still buffered.
final class HASlaveLink: ChannelInboundHandler {
    typealias InboundIn = HATransfer
    typealias OutboundOut = ByteBuffer

    enum End: Error, CustomStringConvertible {
        case masterClosed
        case silent(TimeAmount)
        case offsetMismatch(master: Int64, slave: Int64)

        var description: String {
            switch self {
            case .masterClosed: "master closed the link"
            case let .silent(d): "nothing from the master for \(d.nanoseconds / 1_000_000) ms"
            case let .offsetMismatch(m, s): "master sends offset \(m), slave's end is \(s)"
            }
        }
    }

    private let store: MessageStore
    private let config: HAConfig
    /// Fails with why the link ended, once the channel is inactive.
    let finished: EventLoopPromise<Void>
    private var context: ChannelHandlerContext?
    private var ticker: RepeatedTask?
    private var lastHeard = NIODeadline.now()
    private var reportDue = false
    private var reason: (any Error)?

    init(store: MessageStore, config: HAConfig, finished: EventLoopPromise<Void>) {
        self.store = store
        self.config = config
        self.finished = finished
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        lastHeard = .now()
        report(context)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let every = TimeAmount(config.heartbeatInterval)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in bound.value.tick() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        finished.fail(reason ?? End.masterClosed)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard reason == nil, context.channel.isActive else { return }
        let transfer = unwrapInboundIn(data)
        lastHeard = .now()
        do {
            try apply(transfer)
        } catch {
            return end(error)
        }
        if !transfer.isHeartbeat { reportDue = true }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if reportDue, reason == nil {
            reportDue = false
            report(context)
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(error)
    }

    /// Writes one chunk (a heartbeat only checks the offset), as RocketMQ's `dispatchReadRequest`: an empty
    /// slave accepts any start (the master's newest segment), otherwise the chunk must start at the slave's end.
    private func apply(_ transfer: HATransfer) throws {
        let end = store.replicationOffset
        guard end == 0 || transfer.offset == end else { throw End.offsetMismatch(master: transfer.offset, slave: end) }
        if transfer.isHeartbeat { return }
        try store.appendReplicated(transfer.body.readableBytesView, at: transfer.offset)
    }

    private func tick() {
        guard reason == nil, let context else { return }
        let silence = NIODeadline.now() - lastHeard
        if silence > TimeAmount(config.housekeepingInterval) { return end(End.silent(silence)) }
        report(context)
    }

    private func report(_ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: HAProtocol.reportSize)
        HAProtocol.writeReport(store.replicationOffset, to: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func end(_ why: any Error) {
        guard reason == nil else { return }
        reason = why
        context?.close(promise: nil)
    }
}
