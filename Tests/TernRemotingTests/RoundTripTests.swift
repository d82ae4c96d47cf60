import TernTestSupport
import NIOCore
import TernRemoting
import Testing

@Suite("Round trips")
struct RoundTripTests {
    @Test(arguments: [RemotingSerializeType.json, .rocketmq])
    func randomCommandsRoundTrip(type: RemotingSerializeType) throws {
        var generator = CommandGenerator(random: SplitMix64(seed: 0x5EED_0001 + UInt64(type.rawValue)))
        for iteration in 0 ..< 2_000 {
            let command = generator.command(type)
            let decoded = try decodeOne(encode(command).bytes)
            #expect(decoded == command, "iteration \(iteration)")
            if decoded != command { return }
        }
    }

    /// Many frames in one buffer decode in order and leave nothing behind.
    @Test func backToBackFrames() throws {
        var generator = CommandGenerator(random: SplitMix64(seed: 0x5EED_0002))
        let commands = (0 ..< 50).map { index in generator.command(index % 3 == 0 ? .rocketmq : .json) }
        var stream = ByteBufferAllocator().buffer(capacity: 0)
        for command in commands { try RemotingFrame.write(command, into: &stream) }
        var decoded: [RemotingCommand] = []
        while let command = try RemotingFrame.read(from: &stream, frameSizeMax: 1 << 20) { decoded.append(command) }
        #expect(decoded == commands)
        #expect(stream.readableBytes == 0)
    }

    /// The head written apart, followed by the body, is byte for byte the whole frame (the connection sends a
    /// body as its own buffer).
    @Test(arguments: [RemotingSerializeType.json, .rocketmq])
    func headThenBodyIsTheFrame(type: RemotingSerializeType) throws {
        var generator = CommandGenerator(random: SplitMix64(seed: 0x5EED_0003 + UInt64(type.rawValue)))
        for _ in 0 ..< 200 {
            let command = generator.command(type)
            var whole = ByteBufferAllocator().buffer(capacity: 0)
            try RemotingFrame.write(command, into: &whole)
            var split = ByteBufferAllocator().buffer(capacity: 0)
            try RemotingFrame.writeHead(command, into: &split)
            if let body = command.body { split.writeImmutableBuffer(body) }
            #expect(split == whole)
            if split != whole { return }
        }
    }

    @Test(arguments: [RemotingSerializeType.json, .rocketmq])
    func propertySeparatorsRoundTrip(type: RemotingSerializeType) throws {
        let properties = "UNIQ_KEY\u{1}ABC\u{2}KEYS\u{1}k 1\u{2}WAIT\u{1}true\u{2}"
        var command = RemotingCommand(code: RequestCode.sendMessageV2, opaque: 3, serializeType: type)
        command.extFields["i"] = properties
        let decoded = try #require(try decodeOne(encode(command).bytes))
        #expect(decoded.extFields["i"] == properties)
        #expect(decoded.extFields["i"]?.utf8.filter { $0 == 1 }.count == 3)
    }

    @Test(arguments: [RemotingSerializeType.json, .rocketmq])
    func responseCopiesOpaqueAndSerializeType(type: RemotingSerializeType) throws {
        var request = RemotingCommand(code: RequestCode.pullMessage, language: .cpp, version: 64, opaque: 1234,
                                      serializeType: type)
        request.extFields["topic"] = "T"
        let received = try #require(try decodeOne(encode(request).bytes))
        let response = received.makeResponse(code: ResponseCode.pullNotFound, remark: "NO_NEW_MSG")
        #expect(response.opaque == 1234)
        #expect(response.serializeType == type)
        #expect(response.isResponse)
        #expect(!response.isOneway)
        #expect(response.code == 19)
        #expect(response.remark == "NO_NEW_MSG")
        #expect(response.extFields.isEmpty)

        // The encoder writes the response in the request's type.
        var frame = try encode(response)
        let mark = try #require(frame.getInteger(at: frame.readerIndex + 4, as: UInt32.self))
        #expect(UInt8(mark >> 24) == type.rawValue)
        let decoded = try #require(try RemotingFrame.read(from: &frame, frameSizeMax: 1 << 20))
        #expect(decoded.opaque == 1234 && decoded.isResponse && decoded.serializeType == type)
    }

    @Test func flagsKeepUnknownBits() {
        var command = RemotingCommand(code: 1, flag: RemotingFlags(rawValue: 0x100))
        command.isOneway = true
        #expect(command.flag.rawValue == 0x102)
        command.isResponse = true
        command.isOneway = false
        #expect(command.flag.rawValue == 0x101)
    }

    @Test func languageNames() {
        for language in LanguageCode.allCases { #expect(LanguageCode(name: language.name) == language) }
        #expect(LanguageCode.rust.rawValue == 12)
        #expect(LanguageCode(name: "COBOL") == nil)
    }

    @Test func codesMatchTheReference() {
        #expect(RequestCode.sendMessage == 10 && RequestCode.pullMessage == 11 && RequestCode.sendMessageV2 == 310)
        #expect(RequestCode.sendBatchMessage == 320 && RequestCode.getRouteInfoByTopic == 105)
        #expect(ResponseCode.flushDiskTimeout == 10 && ResponseCode.messageIllegal == 13)
        #expect(ResponseCode.topicNotExist == 17 && ResponseCode.pullNotFound == 19)
        #expect(ResponseCode.pullRetryImmediately == 20 && ResponseCode.pullOffsetMoved == 21)
        #expect(ResponseCode.requestCodeNotSupported == 3 && ResponseCode.flowControl == 215)
    }
}
