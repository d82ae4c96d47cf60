import NIOCore

/// RocketMQ 4.x HA wire protocol (master ↔ slave commit-log streaming), byte-compatible with
/// `store/ha/HAService.java` and `HAConnection.java`. Every integer is big-endian (Java `ByteBuffer`'s default).
///
///     slave → master, an offset report:   [int64 maxPhysicalOffset]                       8 bytes
///     master → slave, a transfer frame:   [int64 startPhysicalOffset][int32 size][size bytes]
///                                          size == 0: a heartbeat carrying the next transfer offset
///
/// The master never sends a frame across a segment end and never more than `haTransferBatchSize` bytes; the
/// slave writes the bytes at `startPhysicalOffset` (which must be its own end) and then reports its new end.
/// A report also acknowledges: on a SYNC_MASTER it releases the sends stored below it.
public enum HAProtocol {
    /// `HAConnection.WriteSocketService.headerSize` and `HAClient.dispatchReadRequest`'s `msgHeaderSize`: 8 + 4.
    public static let transferHeaderSize = 12
    /// `HAClient.reportSlaveMaxOffset`: one `putLong`.
    public static let reportSize = 8

    /// Appends one transfer frame's header to `buffer` (the body follows it on the wire).
    public static func writeTransferHeader(offset: Int64, size: Int32, to buffer: inout ByteBuffer) {
        precondition(size >= 0, "a transfer size is never negative")
        buffer.writeInteger(offset, endianness: .big)
        buffer.writeInteger(size, endianness: .big)
    }

    /// Appends an offset report to `buffer`.
    public static func writeReport(_ offset: Int64, to buffer: inout ByteBuffer) {
        precondition(offset >= 0, "a log offset is never negative")
        buffer.writeInteger(offset, endianness: .big)
    }
}

/// One master → slave frame: log bytes starting at `offset` (empty: a heartbeat).
public struct HATransfer: Sendable, Equatable {
    public var offset: Int64
    public var body: ByteBuffer
    public init(offset: Int64, body: ByteBuffer) {
        self.offset = offset
        self.body = body
    }
    public var isHeartbeat: Bool { body.readableBytes == 0 }
    public var end: Int64 { offset + Int64(body.readableBytes) }
}

/// A frame the peer should never send: the link is closed (and logged), never trusted further.
public enum HAProtocolError: Error, Equatable, CustomStringConvertible {
    case negativeSize(Int32)
    case sizeAboveBatchMax(size: Int32, max: Int)
    case negativeOffset(Int64)

    public var description: String {
        switch self {
        case let .negativeSize(s): "transfer frame with negative size \(s)"
        case let .sizeAboveBatchMax(s, m): "transfer frame of \(s) bytes exceeds the batch maximum \(m)"
        case let .negativeOffset(o): "negative log offset \(o)"
        }
    }
}

/// Slave side: decodes the master's transfer frames. A frame above `bodySizeMax` or with a negative size or
/// offset throws, which ends the link (its reader logs why and closes it).
public struct HATransferDecoder: ByteToMessageDecoder {
    public typealias InboundOut = HATransfer
    public let bodySizeMax: Int

    public init(bodySizeMax: Int) {
        precondition(bodySizeMax > 0)
        self.bodySizeMax = bodySizeMax
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let offset = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int64.self),
              let size = buffer.getInteger(at: buffer.readerIndex + 8, endianness: .big, as: Int32.self)
        else { return .needMoreData }
        guard offset >= 0 else { throw HAProtocolError.negativeOffset(offset) }
        guard size >= 0 else { throw HAProtocolError.negativeSize(size) }
        guard Int(size) <= bodySizeMax else { throw HAProtocolError.sizeAboveBatchMax(size: size, max: bodySizeMax) }
        guard buffer.readableBytes >= HAProtocol.transferHeaderSize + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: HAProtocol.transferHeaderSize)
        let body = buffer.readSlice(length: Int(size))!
        context.fireChannelRead(wrapInboundOut(HATransfer(offset: offset, body: body)))
        return .continue
    }
}

/// Master side: decodes a slave's offset reports. Like Java's `ReadSocketService.processReadEvent`, only the
/// newest complete report in what arrived counts (older ones are superseded); a partial report waits.
public struct HAReportDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Int64
    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let complete = buffer.readableBytes / HAProtocol.reportSize
        guard complete > 0 else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: (complete - 1) * HAProtocol.reportSize)
        let offset = buffer.readInteger(endianness: .big, as: Int64.self)!
        guard offset >= 0 else { throw HAProtocolError.negativeOffset(offset) }
        context.fireChannelRead(wrapInboundOut(offset))
        return .continue
    }
}
