import NIOCore

/// Splits the inbound byte stream into ``RemotingCommand``s (see ``RemotingFrame`` for the layout).
///
/// A partial frame waits for more bytes; an oversize length is refused as soon as its 4 bytes arrive, so a
/// hostile peer cannot make the connection buffer more than `frameSizeMax` bytes. Any ``RemotingError`` thrown
/// puts the `ByteToMessageHandler` in its error state (later bytes are dropped) and reaches `errorCaught`, where
/// the server answers if it can and closes the connection. Bytes of an incomplete frame left at end of input
/// are dropped.
///
/// Single-step: a channel handler can run it inline (`NIOSingleStepByteToMessageProcessor`), so a decoded
/// command reaches its consumer as a value instead of an `NIOAny` box (a heap allocation per frame: a command is
/// too large for the existential's inline buffer); `ByteToMessageHandler` takes it too.
public struct RemotingFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RemotingCommand

    /// Largest accepted length prefix.
    public let frameSizeMax: Int
    /// The connection's finished requests hand their extFields tables back here (see ``ExtFieldsRecycler``).
    public let recycler: ExtFieldsRecycler?

    /// - Precondition: `frameSizeMax >= 4`, room for the header mark.
    public init(frameSizeMax: Int = RemotingLimits.frameSizeMaxDefault, recycler: ExtFieldsRecycler? = nil) {
        precondition(frameSizeMax >= RemotingFrame.headerMarkSize, "frameSizeMax \(frameSizeMax) below 4")
        self.frameSizeMax = frameSizeMax
        self.recycler = recycler
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> RemotingCommand? {
        try RemotingFrame.read(from: &buffer, frameSizeMax: frameSizeMax, recycler: recycler)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RemotingCommand? {
        try decode(buffer: &buffer)
    }
}

/// One connection's spare extFields table: a request answered inline hands its table back
/// (``recycle(_:)``), and the next frame's decode refills it instead of allocating a new one (one heap
/// allocation less per request). When a handed-back table is still shared (the request lives on elsewhere),
/// the decode allocates as it would have anyway: correctness never depends on the hand-back.
///
/// Not Sendable: one connection's decoder and handler use it, on that connection's event loop.
public final class ExtFieldsRecycler {
    private var spare: RemotingExtFields.Table?

    public init() {}

    /// Keeps `fields`' table for the next decode; call once the request's own copies are gone or about to be.
    public func recycle(_ fields: RemotingExtFields) {
        spare = fields.table
    }

    /// Moves the spare table (if any) into `fields`, which a decode is about to fill.
    func lend(to fields: inout RemotingExtFields) {
        fields.adopt(&spare)
    }
}
