import NIOCore

/// The RocketMQ frame: how one ``RemotingCommand`` sits on the byte stream. Big-endian:
///
/// ```
/// +-----------+-------------+---------------------+-------------------+
/// | length    | headerMark  | header              | body              |
/// | u32       | u32         | headerLength bytes  | rest of the frame |
/// +-----------+-------------+---------------------+-------------------+
///              \___ type << 24 | headerLength
/// length = 4 + headerLength + bodyLength (the prefix does not count itself)
/// ```
/// The type byte is the ``RemotingSerializeType`` of the header (0 JSON, 1 ROCKETMQ).
///
/// These two functions are the whole codec; ``RemotingFrameDecoder`` and ``RemotingFrameEncoder`` adapt them to
/// a NIO pipeline, and clients or tests can call them directly.
public enum RemotingFrame {
    /// Size of the length prefix.
    public static let lengthFieldSize = 4
    /// Size of the header mark.
    public static let headerMarkSize = 4

    /// Reads one frame from the front of `buffer`.
    ///
    /// Returns nil, leaving `buffer` untouched, when the frame is not complete yet. A length prefix above
    /// `frameSizeMax` throws as soon as the prefix is readable, and an unknown serialize type or a header length
    /// past the frame's end as soon as the header mark is, before the rest arrives. On success the reader
    /// index moves past the frame, and the body (nil when empty) is a slice sharing `buffer`'s storage.
    ///
    /// Throws ``RemotingError`` for a frame that can never decode: too short or too large a length, a header
    /// length past the frame's end, an unknown serialize type, or a header that does not parse. `buffer` is
    /// left untouched then too; the stream's framing can no longer be trusted, so the caller should close.
    /// `recycler`: where a finished request's extFields table waits to be refilled by this decode.
    public static func read(from buffer: inout ByteBuffer, frameSizeMax: Int,
                            recycler: ExtFieldsRecycler? = nil) throws -> RemotingCommand? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let frameLength = Int(length)
        guard frameLength <= frameSizeMax else {
            throw RemotingError.frameTooLarge(size: frameLength, limit: frameSizeMax)
        }
        guard frameLength >= headerMarkSize else { throw RemotingError.frameTooShort(length: frameLength) }
        // The header mark alone proves a frame can never decode: refuse it now, not after waiting for the rest.
        if let mark = buffer.getInteger(at: buffer.readerIndex + lengthFieldSize, as: UInt32.self) {
            let typeByte = UInt8(truncatingIfNeeded: mark >> 24)
            guard RemotingSerializeType(rawValue: typeByte) != nil else { throw RemotingError.unknownSerializeType(typeByte) }
            let headerLength = Int(mark & 0xFF_FFFF)
            guard headerLength <= frameLength - headerMarkSize else {
                throw RemotingError.headerLengthInvalid(headerLength: headerLength, frameLength: frameLength)
            }
        }
        guard var frame = buffer.getSlice(at: buffer.readerIndex + lengthFieldSize, length: frameLength) else {
            return nil
        }
        // Both checked on the header mark above; the frame is complete, so the mark was readable.
        let headerMark = frame.readInteger(as: UInt32.self)!
        let serializeType = RemotingSerializeType(rawValue: UInt8(truncatingIfNeeded: headerMark >> 24))!
        let header = frame.readSlice(length: Int(headerMark & 0xFF_FFFF))!
        var command: RemotingCommand
        switch serializeType {
        case .json: command = try JSONHeaderDecoder.decode(header, recycler: recycler)
        case .rocketmq: command = try BinaryHeaderCodec.decode(header, recycler: recycler)
        }
        command.body = frame.readableBytes > 0 ? frame.readSlice(length: frame.readableBytes) : nil
        buffer.moveReaderIndex(forwardBy: lengthFieldSize + frameLength)
        return command
    }

    /// Appends `command` as one frame, with the header in `command.serializeType`.
    ///
    /// Throws ``RemotingError/headerTooLarge(length:)`` when the header exceeds 24 bits,
    /// ``RemotingError/headerFieldTooLong(field:length:)`` when a ROCKETMQ length prefix overflows, and
    /// ``RemotingError/frameTooLarge(size:limit:)`` when the frame length exceeds `Int32.max`, the largest length
    /// Java reads. No other size limit applies here: the peer enforces its own. `buffer` is unchanged when it
    /// throws.
    public static func write(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws {
        try write(command, into: &buffer, includingBody: true)
    }

    /// ``write(_:into:)`` without the body: the length prefix counts it, and the caller sends `command.body`
    /// right after these bytes (a gathering write instead of copying the body into the frame).
    public static func writeHead(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws {
        try write(command, into: &buffer, includingBody: false)
    }

    private static func write(_ command: RemotingCommand, into buffer: inout ByteBuffer, includingBody: Bool) throws {
        let start = buffer.writerIndex
        do {
            try writeUnchecked(command, into: &buffer, start: start, includingBody: includingBody)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    private static func writeUnchecked(_ command: RemotingCommand, into buffer: inout ByteBuffer, start: Int,
                                       includingBody: Bool) throws {
        let bodyLength = command.body?.readableBytes ?? 0
        buffer.reserveCapacity(minimumWritableBytes: lengthFieldSize + headerMarkSize + 256 + (includingBody ? bodyLength : 0))
        buffer.writeInteger(UInt32(0))  // Length, set below.
        buffer.writeInteger(UInt32(0))  // Header mark, set below.
        let headerStart = buffer.writerIndex
        switch command.serializeType {
        case .json: JSONHeaderEncoder.write(command, into: &buffer)
        case .rocketmq: try BinaryHeaderCodec.write(command, into: &buffer)
        }
        let headerLength = buffer.writerIndex - headerStart
        guard headerLength <= RemotingLimits.headerSizeMax else {
            throw RemotingError.headerTooLarge(length: headerLength)
        }
        let frameLength = headerMarkSize + headerLength + bodyLength
        guard frameLength <= Int(Int32.max) else {
            throw RemotingError.frameTooLarge(size: frameLength, limit: Int(Int32.max))
        }
        if includingBody, let body = command.body { buffer.writeImmutableBuffer(body) }
        buffer.setInteger(UInt32(frameLength), at: start)
        buffer.setInteger(UInt32(command.serializeType.rawValue) << 24 | UInt32(headerLength), at: start + 4)
    }
}
