import NIOCore
import NIOEmbedded
import Testing
@testable import TernReplication

/// Golden bytes written from apache/rocketmq 4.9 `store/.../ha/HAConnection.java` (`WriteSocketService`:
/// `headerSize = 8 + 4`, `byteBufferHeader.putLong(thisOffset); putInt(size)`, and the heartbeat branch
/// `putLong(nextTransferFromWhere); putInt(0)`) and `HAService.java` (`HAClient.reportSlaveMaxOffset`:
/// `reportOffset.putLong(maxOffset)`; `dispatchReadRequest`: `msgHeaderSize = 8 + 4`, `getLong`, `getInt`).
/// Java's `ByteBuffer` is big-endian by default.
@Suite struct HAProtocolTests {
    @Test func transferHeaderGolden() {
        var buffer = ByteBuffer()
        HAProtocol.writeTransferHeader(offset: 0x0102_0304_0506_0708, size: 0x0A0B_0C0D, to: &buffer)
        #expect(Array(buffer.readableBytesView) == [1, 2, 3, 4, 5, 6, 7, 8, 0x0A, 0x0B, 0x0C, 0x0D])
        #expect(HAProtocol.transferHeaderSize == 12)
    }

    @Test func heartbeatGolden() {
        var buffer = ByteBuffer()
        HAProtocol.writeTransferHeader(offset: 1 << 30, size: 0, to: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func reportGolden() {
        var buffer = ByteBuffer()
        HAProtocol.writeReport(65_536 + 255, to: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 0, 0, 1, 0, 0xFF])
    }

    /// Two frames and a heartbeat fed one byte at a time and then all at once decode to the same transfers.
    @Test func transferDecoderAcrossSplits() throws {
        var wire = ByteBuffer()
        for (offset, body) in [(Int64(4096), [UInt8](1...5)), (4101, [9, 8]), (4103, [])] {
            HAProtocol.writeTransferHeader(offset: offset, size: Int32(body.count), to: &wire)
            wire.writeBytes(body)
        }
        let expected = [HATransfer(offset: 4096, body: ByteBuffer(bytes: [1, 2, 3, 4, 5])),
                        HATransfer(offset: 4101, body: ByteBuffer(bytes: [9, 8])),
                        HATransfer(offset: 4103, body: ByteBuffer())]
        for step in [1, 5, wire.readableBytes] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(HATransferDecoder(bodySizeMax: 16)))
            var rest = wire
            while let piece = rest.readSlice(length: min(step, rest.readableBytes)), piece.readableBytes > 0 {
                try channel.writeInbound(piece)
            }
            var got: [HATransfer] = []
            while let t = try channel.readInbound(as: HATransfer.self) { got.append(t) }
            #expect(got == expected, "step \(step)")
            #expect(try channel.finish().isClean)
        }
        #expect(expected[2].isHeartbeat)
    }

    @Test(arguments: [(Int32(-1), HAProtocolError.negativeSize(-1)),
                      (Int32(17), HAProtocolError.sizeAboveBatchMax(size: 17, max: 16))])
    func hostileSizeIsAnError(size: Int32, error: HAProtocolError) throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HATransferDecoder(bodySizeMax: 16)))
        var wire = ByteBuffer()
        wire.writeInteger(Int64(0))
        wire.writeInteger(size)
        #expect(throws: error) { try channel.writeInbound(wire) }
        _ = try? channel.finish()
    }

    @Test func negativeOffsetIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HATransferDecoder(bodySizeMax: 16)))
        var wire = ByteBuffer()
        wire.writeInteger(Int64(-5))
        wire.writeInteger(Int32(0))
        #expect(throws: HAProtocolError.negativeOffset(-5)) { try channel.writeInbound(wire) }
        _ = try? channel.finish()
    }

    /// Like Java's `ReadSocketService`, only the newest complete report in a read counts; a partial one waits.
    @Test func reportDecoderKeepsNewest() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HAReportDecoder()))
        var wire = ByteBuffer()
        HAProtocol.writeReport(100, to: &wire)
        HAProtocol.writeReport(200, to: &wire)
        wire.writeBytes([0, 0, 0])
        try channel.writeInbound(wire)
        #expect(try channel.readInbound(as: Int64.self) == 200)
        #expect(try channel.readInbound(as: Int64.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 1, 0x2C]))
        #expect(try channel.readInbound(as: Int64.self) == 300)
        #expect(try channel.finish().isClean)
    }
}
