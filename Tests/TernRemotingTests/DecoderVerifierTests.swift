import TernTestSupport
import NIOCore
import NIOEmbedded
import NIOTestUtils
import TernRemoting
import Testing

@Suite("Frame decoder in a pipeline")
struct DecoderVerifierTests {
    /// NIO's verifier feeds the frames byte by byte, all at once, and one per buffer, and expects the same
    /// commands every time.
    @Test func verifierByteByByteAndBatched() throws {
        var generator = CommandGenerator(random: SplitMix64(seed: 0x5EED_0003))
        var pairs: [(ByteBuffer, [RemotingCommand])] = []
        for index in 0 ..< 12 {
            let command = generator.command(index.isMultiple(of: 2) ? .json : .rocketmq)
            pairs.append((try encode(command), [command]))
        }
        // Two frames in one input buffer produce two commands.
        let first = generator.command(.json)
        let second = generator.command(.rocketmq)
        var both = try encode(first)
        try RemotingFrame.write(second, into: &both)
        pairs.append((both, [first, second]))
        // The C++ request from the reference, as it is on the wire.
        let cpp = FrameBuilder.jsonFrame(GoldenTests.cppSendJSON, body: Array("body".utf8))
        pairs.append((ByteBuffer(bytes: cpp), [try #require(try decodeOne(cpp))]))

        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RemotingFrameDecoder() }
    }

    @Test func encoderAndDecoderThroughEmbeddedChannels() throws {
        let sender = EmbeddedChannel(handler: MessageToByteHandler(RemotingFrameEncoder()))
        let receiver = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder()))
        var generator = CommandGenerator(random: SplitMix64(seed: 0x5EED_0004))
        let commands = (0 ..< 20).map { generator.command($0 % 4 == 0 ? .rocketmq : .json) }
        for command in commands { try sender.writeOutbound(command) }
        while let bytes = try sender.readOutbound(as: ByteBuffer.self) { try receiver.writeInbound(bytes) }
        var received: [RemotingCommand] = []
        while let command = try receiver.readInbound(as: RemotingCommand.self) { received.append(command) }
        #expect(received == commands)
        #expect(try sender.finish().isClean)
        #expect(try receiver.finish().isClean)
    }

    @Test func encoderFailureLeavesNoBytes() throws {
        let sender = EmbeddedChannel(handler: MessageToByteHandler(RemotingFrameEncoder()))
        var command = RemotingCommand(code: 10, serializeType: .rocketmq)
        command.extFields[String(repeating: "k", count: 40_000)] = "v"
        #expect(throws: RemotingError.self) { try sender.writeOutbound(command) }
        #expect(try sender.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? sender.finish()
    }
}
