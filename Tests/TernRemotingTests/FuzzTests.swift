import TernTestSupport
import NIOCore
import NIOEmbedded
import TernRemoting
import Testing

/// Seeded fuzzing of the decoder: it must never trap, whatever the bytes, and whatever it accepts must survive
/// re-encoding unchanged.
@Suite("Decoder fuzzing")
struct FuzzTests {
    static let iterations = 10_000

    @Test func randomBytesNeverCrash() throws {
        var random = SplitMix64(seed: 0xF0CC_ACC1A)
        var generator = CommandGenerator(random: SplitMix64(seed: 0xF0CC_ACC1B))
        var decodedCount = 0
        var errorCount = 0
        for iteration in 0 ..< Self.iterations {
            let input: [UInt8]
            switch iteration % 4 {
            case 0: input = random.bytes(Int.random(in: 0 ... 64, using: &random))
            case 1: input = mutate(try encode(generator.command(.json)).bytes, using: &random)
            case 2: input = mutate(try encode(generator.command(.rocketmq)).bytes, using: &random)
            default: input = FrameBuilder.jsonFrame(jsonSoup(using: &random))
            }
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder(frameSizeMax: 4096)))
            do {
                // Split the input in two writes to exercise accumulation.
                let split = input.isEmpty ? 0 : Int.random(in: 0 ... input.count, using: &random)
                try channel.writeInbound(ByteBuffer(bytes: Array(input[..<split])))
                try channel.writeInbound(ByteBuffer(bytes: Array(input[split...])))
            } catch is RemotingError {
                errorCount += 1
            } catch {
                Issue.record("iteration \(iteration): unexpected error \(error)")
            }
            while let command = try channel.readInbound(as: RemotingCommand.self) {
                decodedCount += 1
                try checkReencodes(command, iteration: iteration)
            }
            _ = try? channel.finish()
        }
        // The mix must exercise both outcomes, or the fuzzer tests nothing.
        #expect(decodedCount > 500)
        #expect(errorCount > 500)
    }

    /// Decoding what we decoded and re-encoded gives the same command.
    private func checkReencodes(_ command: RemotingCommand, iteration: Int) throws {
        let again = try decodeOne(encode(command).bytes)
        #expect(again == command, "iteration \(iteration)")
    }

    /// Flips, truncates, inserts or overwrites a few bytes.
    private func mutate(_ bytes: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &random) where !bytes.isEmpty {
            let index = Int.random(in: 0 ..< bytes.count, using: &random)
            switch Int.random(in: 0 ..< 4, using: &random) {
            case 0: bytes[index] ^= UInt8(1) << UInt8.random(in: 0 ..< 8, using: &random)
            case 1: bytes.removeLast(Int.random(in: 0 ... bytes.count - index, using: &random))
            case 2: bytes.insert(UInt8.random(in: 0 ... 255, using: &random), at: index)
            default: bytes[index] = [0x00, 0x22, 0x5C, 0x7B, 0x7D, 0xFF, 0x80].randomElement(using: &random)!
            }
        }
        return bytes
    }

    /// JSON-looking token soup, so the header reader sees deep and odd structures rather than random bytes.
    private func jsonSoup(using random: inout SplitMix64) -> String {
        let tokens = [
            "{", "}", "[", "]", ":", ",", "\"code\"", "\"extFields\"", "\"remark\"", "\"opaque\"", "\"flag\"",
            "\"language\"", "\"version\"", "\"x\"", "\"a\\u0001b\"", "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\\\"\"",
            "1", "-2", "3.5", "4.0", "1e3", "-0", "99999999999", "true", "false", "null", "\"CPP\"", " ", "\n",
            "\"\u{FF}\"", "\"\\", "\"",
        ]
        var text = random.chance(80) ? "{" : ""
        for _ in 0 ..< Int.random(in: 0 ... 40, using: &random) { text += tokens.randomElement(using: &random)! }
        return text + (random.chance(80) ? "}" : "")
    }
}
