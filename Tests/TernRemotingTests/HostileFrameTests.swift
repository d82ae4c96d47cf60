import NIOCore
import NIOEmbedded
import TernRemoting
import Testing

@Suite("Hostile frames")
struct HostileFrameTests {
    private func channel(frameSizeMax: Int = RemotingLimits.frameSizeMaxDefault) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder(frameSizeMax: frameSizeMax)))
    }

    /// Feeds `bytes` and returns the decode error, or nil if none was raised.
    private func decodeError(_ bytes: [UInt8], frameSizeMax: Int = 1 << 20) -> RemotingError? {
        do {
            _ = try decodeOne(bytes, frameSizeMax: frameSizeMax)
            return nil
        } catch let error as RemotingError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func truncatedFrameWaitsForTheRest() throws {
        let frame = try encode(RemotingCommand(code: 10, opaque: 9, extFields: ["topic": "T"])).bytes
        for cut in [0, 1, 3, 4, 7, 8, frame.count / 2, frame.count - 1] {
            let channel = channel()
            try channel.writeInbound(ByteBuffer(bytes: Array(frame[..<cut])))
            #expect(try channel.readInbound(as: RemotingCommand.self) == nil, "cut at \(cut)")
            try channel.writeInbound(ByteBuffer(bytes: Array(frame[cut...])))
            let command = try #require(try channel.readInbound(as: RemotingCommand.self))
            #expect(command.opaque == 9 && command.extFields["topic"] == "T")
            #expect(try channel.finish().isClean)
        }
        // The plain function leaves the buffer untouched while it waits.
        var partial = ByteBuffer(bytes: Array(frame.dropLast()))
        #expect(try RemotingFrame.read(from: &partial, frameSizeMax: 1 << 20) == nil)
        #expect(partial.readableBytes == frame.count - 1)
    }

    @Test func oversizeLengthFailsBeforeTheBytesArrive() throws {
        let channel = channel(frameSizeMax: 1024)
        var prefix = FrameBuilder()
        prefix.be(UInt32(1025))
        #expect(throws: RemotingError.frameTooLarge(size: 1025, limit: 1024)) {
            try channel.writeInbound(ByteBuffer(bytes: prefix.bytes))
        }
        // A length with the high bit set is huge, not negative.
        #expect(decodeError([0xFF, 0xFF, 0xFF, 0xFF]) == .frameTooLarge(size: 0xFFFF_FFFF, limit: 1 << 20))
        // The default limit is 16 MiB, exactly.
        var atLimit = FrameBuilder()
        atLimit.be(UInt32(16 * 1024 * 1024))
        #expect(decodeError(atLimit.bytes, frameSizeMax: RemotingLimits.frameSizeMaxDefault) == nil)
        var overLimit = FrameBuilder()
        overLimit.be(UInt32(16 * 1024 * 1024 + 1))
        #expect(decodeError(overLimit.bytes, frameSizeMax: RemotingLimits.frameSizeMaxDefault) != nil)
    }

    @Test func lengthTooShortForTheHeaderMark() {
        for length in 0 ..< 4 {
            var bytes = FrameBuilder()
            bytes.be(UInt32(length))
            bytes.raw([0, 0, 0, 0])
            #expect(decodeError(bytes.bytes) == .frameTooShort(length: length))
        }
    }

    @Test func headerLengthBeyondTheFrame() {
        var frame = FrameBuilder()
        frame.be(UInt32(4 + 2))
        frame.be(UInt32(3))  // JSON, header length 3 > 2 bytes available
        frame.raw("{}")
        #expect(decodeError(frame.bytes) == .headerLengthInvalid(headerLength: 3, frameLength: 6))
        var huge = FrameBuilder()
        huge.be(UInt32(8))
        huge.be(UInt32(0x00FF_FFFF))
        huge.raw([0, 0, 0, 0])
        #expect(decodeError(huge.bytes) == .headerLengthInvalid(headerLength: 0xFF_FFFF, frameLength: 8))
    }

    /// The length prefix and header mark alone (8 of 1000 bytes) already prove the frame can never decode.
    @Test func impossibleHeaderMarkFailsBeforeTheRestArrives() {
        var header = FrameBuilder()
        header.be(UInt32(1000))
        header.be(UInt32(5000))
        #expect(decodeError(header.bytes) == .headerLengthInvalid(headerLength: 5000, frameLength: 1000))
        var badType = FrameBuilder()
        badType.be(UInt32(1000))
        badType.be(UInt32(0x0700_0010))
        #expect(decodeError(badType.bytes) == .unknownSerializeType(7))
        // A plausible mark waits for the rest.
        var fine = FrameBuilder()
        fine.be(UInt32(1000))
        fine.be(UInt32(0x0100_0010))
        #expect(decodeError(fine.bytes) == nil)
    }

    @Test func unknownSerializeType() {
        for type: UInt8 in [2, 7, 0x80, 0xFF] {
            let frame = FrameBuilder.frame(type: type, header: Array("{}".utf8))
            #expect(decodeError(frame) == .unknownSerializeType(type))
        }
    }

    @Test func badJSON() {
        let cases = [
            "", "{", "{\"code\":", "{\"code\":10", "{\"code\" 10}", "{\"code\":10,}", "[1]", "nonsense",
            "{\"code\":\"ten\"}", "{\"opaque\":4294967296}", "{\"extFields\":{\"a\":}}", "{\"extFields\":{\"a\"",
            "{\"code\":10}}", "{\"code\":10} x", "{\"remark\":\"unterminated}", "{\"remark\":\"\\u12\"}",
            "{\"remark\":\"\\uZZZZ\"}",
            "{\"x\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}",
            "{\"code\":-}", "{\"code\":1.}", "{\"code\":1e}", "{\"extFields\":[\"a\"]}", "{\"code\":tru}",
        ]
        for json in cases {
            let error = decodeError(FrameBuilder.jsonFrame(json))
            guard case .malformedHeader = error else {
                Issue.record("\(json.debugDescription) gave \(String(describing: error))")
                continue
            }
        }
    }

    @Test func badBinaryHeaders() {
        let fixed = FrameBuilder.binaryFixedFields(code: 10, language: 0, version: 1, opaque: 1, flag: 0)
        let headers: [[UInt8]] = [
            [],
            Array(fixed.bytes.prefix(10)),
            fixed.bytes,  // no remark length
            fixed.bytes + [0, 0, 0, 5, 0x61],  // remark longer than the header
            fixed.bytes + [0xFF, 0xFF, 0xFF, 0xFF],  // negative remark length
            fixed.bytes + [0, 0, 0, 0],  // no extFields length
            fixed.bytes + [0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0x61],  // entry without value length
            fixed.bytes + [0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0x61, 0, 0, 0, 9],  // value past the section
            fixed.bytes + [0, 0, 0, 0, 0, 0, 0, 2, 0xFF, 0xFF],  // negative key length
        ]
        for header in headers {
            let error = decodeError(FrameBuilder.frame(type: 1, header: header))
            guard case .malformedHeader = error else {
                Issue.record("\(header) gave \(String(describing: error))")
                continue
            }
        }
    }

    @Test func tooManyExtFields() {
        let fields = (0 ... RemotingLimits.extFieldsCountMax).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        guard case .malformedHeader = decodeError(FrameBuilder.jsonFrame("{\"extFields\":{\(fields)}}")) else {
            Issue.record("no error for too many extFields")
            return
        }
    }

    @Test func pipelineStopsAfterAnError() throws {
        let channel = channel()
        let bad = ByteBuffer(bytes: FrameBuilder.jsonFrame("{x"))
        #expect(throws: RemotingError.self) { try channel.writeInbound(bad) }
        // Later bytes, even a good frame, are not decoded: the stream's framing is lost.
        let good = try encode(RemotingCommand(code: 34))
        #expect(throws: (any Error).self) { try channel.writeInbound(good) }
        #expect(try channel.readInbound(as: RemotingCommand.self) == nil)
        _ = try? channel.finish()
    }
}
