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

    /// - Precondition: `frameSizeMax >= 4`, room for the header mark.
    public init(frameSizeMax: Int = RemotingLimits.frameSizeMaxDefault) {
        precondition(frameSizeMax >= RemotingFrame.headerMarkSize, "frameSizeMax \(frameSizeMax) below 4")
        self.frameSizeMax = frameSizeMax
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> RemotingCommand? {
        try RemotingFrame.read(from: &buffer, frameSizeMax: frameSizeMax)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RemotingCommand? {
        try decode(buffer: &buffer)
    }
}
