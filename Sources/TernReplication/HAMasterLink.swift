import Logging
import NIOCore
import Synchronization
import TernStorage

/// One slave link on the master, run entirely on its channel's event loop (no task hop between a report, the
/// acknowledgement it records and the next chunk; none between a dispatch event and the write).
///
/// Transfer: nothing is sent until the slave's first report; the first chunk starts at that offset, or at the
/// start of the master's newest segment when the slave reports 0 (it holds nothing). Each pump writes as many
/// frames of at most `transferBatchSize` bytes as the log holds, while the channel stays writable (so several
/// frames are in flight, bounded by the write-buffer watermarks), then flushes once. A pump runs on each
/// report, each dispatch event (woken from the dispatcher thread: at most one hop queued at a time) and when
/// the channel becomes writable again; an idle link gets an empty frame every `heartbeatInterval`.
///
/// Ends (logged once, then the channel closes): a report beyond the master's end, `housekeepingInterval` of
/// silence, a position no longer in the log, the slave closing, a decoding error.
final class HAMasterLink: ChannelInboundHandler {
    typealias InboundIn = Int64
    typealias OutboundOut = ByteBuffer

    enum End: Error, CustomStringConvertible {
        case slaveClosed
        case slaveAhead(reported: Int64, masterEnd: Int64)
        case silent(TimeAmount)
        case offsetOutsideLog(Int64)

        var description: String {
            switch self {
            case .slaveClosed: "slave closed the link"
            case let .slaveAhead(r, e): "slave reports offset \(r) beyond the master's end \(e)"
            case let .silent(d): "no report for \(d.nanoseconds / 1_000_000) ms"
            case let .offsetOutsideLog(o): "offset \(o) is no longer (or not yet) in the master's log"
            }
        }
    }

    private let store: MessageStore
    private let config: HAConfig
    private let acks: ReplicationAcks
    private let id: Int
    private var logger: Logger
    /// Set by the dispatcher thread when it queued a pump, cleared by that pump: one hop queued at most.
    private let pumpQueued = PumpFlag()

    private var context: ChannelHandlerContext?
    private var subscription: DispatchSubscription?
    private var ticker: RepeatedTask?
    /// The slave's newest report (nil before its first).
    private var reported: Int64?
    /// The next offset to send (nil until the first report decided it).
    private var next: Int64?
    private var lastWrite = NIODeadline.now()
    private var lastHeard = NIODeadline.now()
    private var ended = false

    init(store: MessageStore, config: HAConfig, acks: ReplicationAcks, id: Int, logger: Logger) {
        self.store = store
        self.config = config
        self.acks = acks
        self.id = id
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress?.description ?? "?"
        logger[metadataKey: "ha.slave"] = "\(peer)"
        acks.connected(link: id, peer: peer)
        logger.info("slave connected")
        lastHeard = .now()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop, flag = pumpQueued
        subscription = store.subscribe(name: "ha.slave.\(id)") { _ in
            guard flag.raise() else { return }
            loop.execute { bound.value.pump() }
        }
        // Half the heartbeat interval, so an idle link's heartbeat is never a whole tick late.
        let tick = TimeAmount(min(config.heartbeatInterval / 2, config.housekeepingInterval))
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in bound.value.tick() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(End.slaveClosed)
        subscription?.cancel()
        subscription = nil
        ticker?.cancel()
        ticker = nil
        acks.disconnected(link: id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        let offset = unwrapInboundIn(data)
        let end = store.maxPhysicalOffset
        guard offset <= end else { return self.end(End.slaveAhead(reported: offset, masterEnd: end)) }
        lastHeard = .now()
        reported = offset
        acks.acknowledged(link: id, offset: offset, masterEnd: end)
        pump()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(error)
    }

    /// Writes every frame the log holds past `next` while the channel is writable, then one flush.
    private func pump() {
        pumpQueued.lower()
        guard !ended, let context, let requested = reported else { return }
        var position = next ?? (requested == 0 ? newestSegmentBase() : requested)
        next = position
        var wrote = false
        while context.channel.isWritable {
            // One copy: mapped log bytes straight into the frame.
            var frame: ByteBuffer?
            let count = store.withLogBytes(from: position, maxCount: config.transferBatchSize) { bytes in
                guard bytes.count > 0 else { return 0 }
                var buffer = context.channel.allocator.buffer(capacity: HAProtocol.transferHeaderSize + bytes.count)
                HAProtocol.writeTransferHeader(offset: position, size: Int32(bytes.count), to: &buffer)
                buffer.writeBytes(bytes)
                frame = buffer
                return bytes.count
            }
            guard let count else { return end(End.offsetOutsideLog(position)) }
            guard count > 0, let frame else { break }
            context.write(wrapOutboundOut(frame), promise: nil)
            position += Int64(count)
            next = position
            wrote = true
        }
        if wrote {
            context.flush()
            lastWrite = .now()
        }
    }

    /// Housekeeping, the in-sync set's gap check, and a heartbeat on an idle link.
    private func tick() {
        guard !ended, let context else { return }
        let silence = NIODeadline.now() - lastHeard
        if silence > TimeAmount(config.housekeepingInterval) { return end(End.silent(silence)) }
        acks.check(masterEnd: store.maxPhysicalOffset)
        pump()
        if let position = next, NIODeadline.now() - lastWrite >= TimeAmount(config.heartbeatInterval) {
            var frame = context.channel.allocator.buffer(capacity: HAProtocol.transferHeaderSize)
            HAProtocol.writeTransferHeader(offset: position, size: 0, to: &frame)
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            lastWrite = .now()
        }
    }

    private func end(_ reason: any Error) {
        guard !ended else { return }
        ended = true
        logger.info("slave link closed", metadata: ["reason": "\(reason)"])
        context?.close(promise: nil)
    }

    /// RocketMQ's rule for a slave that holds nothing: start at the master's newest segment.
    private func newestSegmentBase() -> Int64 {
        let end = store.maxPhysicalOffset
        return max(0, end - end % Int64(store.config.segmentSize))
    }
}

/// A flag raised by one thread to queue work on an event loop and lowered by that work.
final class PumpFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    /// True when it was down (the caller queues the work).
    func raise() -> Bool { !raised.exchange(true, ordering: .acquiringAndReleasing) }
    func lower() { raised.store(false, ordering: .releasing) }
}
