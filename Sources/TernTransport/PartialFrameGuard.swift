import Logging
import NIOCore
import TernRemoting

/// First inbound handler of a server connection: follows the frame boundaries of the raw byte stream (length
/// prefixes only, nothing decoded) to bound what an incomplete frame may cost. The bytes of a frame not yet
/// complete count against the server-wide ``ConnectionLimits/partialFrameBytesMax``, and such a frame must
/// complete within ``ConnectionLimits/partialFrameTimeout``; otherwise the connection is closed.
///
/// Invariant between reads: `held` is the number of bytes of the current incomplete frame (prefix included)
/// passed on to the decoder, and `taken == held` is what this connection has from the budget; it is all
/// returned when the frame completes or the connection closes.
final class PartialFrameGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let budget: ConnectionBudget
    private let logger: Logger
    /// Bytes seen of the current frame, and the first 4 of them (the length prefix) while incomplete.
    private var held = 0
    private var prefix: UInt32 = 0
    /// Total size of the current frame (prefix included), once its prefix is complete.
    private var frameSize: Int?
    /// Of `held`, the bytes taken from the budget (all of them between reads).
    private var taken = 0
    private var timer: Scheduled<Void>?
    private var closing = false

    init(budget: ConnectionBudget, logger: Logger) {
        self.budget = budget
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let bytes = unwrapInboundIn(data)
        var view = bytes.readableBytesView[...]
        while !view.isEmpty {
            if frameSize == nil {
                let b = view.removeFirst()
                prefix = prefix << 8 | UInt32(b)
                held += 1
                // A length too large or too small is the decoder's error to raise; the guard only counts.
                if held == RemotingFrame.lengthFieldSize { frameSize = RemotingFrame.lengthFieldSize + Int(prefix) }
            } else {
                let take = min(frameSize! - held, view.count)
                view = view.dropFirst(take)
                held += take
            }
            if let size = frameSize, held == size { frameCompleted() }
        }
        // The incomplete frame's bytes stay buffered downstream until the rest arrives: account for them.
        let more = held - taken
        if more > 0 {
            guard budget.takePartial(more) else {
                refuse(context, "partial frames of all connections pass the buffered-bytes cap", [
                    "limit": "\(budget.limits.partialFrameBytesMax)", "held": "\(budget.partialFrameBytes)",
                ])
                return
            }
            taken = held
        }
        if held > 0, timer == nil { startTimer(context) }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    // MARK: - Bookkeeping

    private func frameCompleted() {
        release()
        held = 0
        prefix = 0
        frameSize = nil
    }

    private func release() {
        budget.returnPartial(taken)
        taken = 0
        timer?.cancel()
        timer = nil
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        let timeout = budget.limits.partialFrameTimeout
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            // A paused connection cannot complete its frame: wait again rather than blame the peer.
            if let c = (try? context.pipeline.syncOperations.handler(type: RemotingChannelHandler.self))?.connection,
               !c.readPauseReasons.isEmpty {
                handler.startTimer(context)
                return
            }
            handler.refuse(context, "partial frame incomplete after \(timeout.nanoseconds / 1_000_000) ms", [
                "held": "\(handler.held)", "frame.size": "\(handler.frameSize.map(String.init) ?? "?")",
            ])
        }
    }

    private func refuse(_ context: ChannelHandlerContext, _ why: String, _ metadata: Logger.Metadata) {
        closing = true
        var m = metadata
        m["peer"] = "\(context.channel.remoteAddress?.description ?? "?")"
        logger.warning("closing connection: \(why)", metadata: m)
        release()
        context.close(promise: nil)
    }
}
