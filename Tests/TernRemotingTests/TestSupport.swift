import TernTestSupport
import NIOCore
import TernRemoting


/// Builds frames by hand, independently of the codec under test.
struct FrameBuilder {
    var bytes: [UInt8] = []
    mutating func be<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func raw(_ more: [UInt8]) { bytes.append(contentsOf: more) }
    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// A complete frame: length, header mark, header, body.
    static func frame(type: UInt8, header: [UInt8], body: [UInt8] = []) -> [UInt8] {
        var builder = FrameBuilder()
        builder.be(UInt32(4 + header.count + body.count))
        builder.be(UInt32(type) << 24 | UInt32(header.count))
        builder.raw(header)
        builder.raw(body)
        return builder.bytes
    }

    /// The 13 fixed bytes that open a ROCKETMQ header: code, language, version, opaque, flag.
    static func binaryFixedFields(code: Int16, language: UInt8, version: Int16, opaque: Int32, flag: Int32) -> Self {
        var builder = FrameBuilder()
        builder.be(code)
        builder.raw([language])
        builder.be(version)
        builder.be(opaque)
        builder.be(flag)
        return builder
    }

    static func jsonFrame(_ json: String, body: [UInt8] = []) -> [UInt8] {
        frame(type: 0, header: Array(json.utf8), body: body)
    }
}

extension ByteBuffer {
    init(bytes: [UInt8]) {
        self = ByteBufferAllocator().buffer(capacity: bytes.count)
        writeBytes(bytes)
    }
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// Encodes one command into a fresh buffer.
func encode(_ command: RemotingCommand) throws -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 256)
    try RemotingFrame.write(command, into: &buffer)
    return buffer
}

/// Decodes exactly one frame that must fill `bytes`.
func decodeOne(_ bytes: [UInt8], frameSizeMax: Int = RemotingLimits.frameSizeMaxDefault) throws -> RemotingCommand? {
    var buffer = ByteBuffer(bytes: bytes)
    let command = try RemotingFrame.read(from: &buffer, frameSizeMax: frameSizeMax)
    if command != nil { precondition(buffer.readableBytes == 0, "frame did not consume its bytes") }
    return command
}

/// Random commands whose every field survives a round trip in `type`: the ROCKETMQ header writes 16-bit code
/// and version, and reads an empty remark or value as absent, so those are drawn non-empty.
struct CommandGenerator {
    var random: SplitMix64

    private static let pieces: [String] = [
        "a", "Z", "topic", "0", "9", " ", "\"", "\\", "/", "\u{1}", "\u{2}", "\n", "\r", "\t", "\u{1F}", "\u{7F}",
        "é", "中", "😀", "{", "}", "[", "]", ":", ",", "\u{FFFD}", "\u{2028}",
    ]

    mutating func string(minCount: Int = 0, maxCount: Int = 12) -> String {
        let count = Int.random(in: minCount ... maxCount, using: &random)
        return (0 ..< count).map { _ in Self.pieces.randomElement(using: &random)! }.joined()
    }

    mutating func command(_ type: RemotingSerializeType) -> RemotingCommand {
        let binary = type == .rocketmq
        var fields = RemotingExtFields()
        for index in 0 ..< Int.random(in: 0 ... 20, using: &random) {
            fields["k\(index)" + string(maxCount: 3)] = string(minCount: binary ? 1 : 0)
        }
        var body: ByteBuffer?
        if random.chance(70) { body = ByteBuffer(bytes: random.bytes(Int.random(in: 1 ... 300, using: &random))) }
        return RemotingCommand(
            code: binary ? Int(random.int(Int16.self)) : Int(random.int(Int32.self)),
            language: LanguageCode.allCases.randomElement(using: &random)!,
            version: binary ? Int(random.int(Int16.self)) : Int(random.int(Int32.self)),
            opaque: random.int(Int32.self),
            flag: RemotingFlags(rawValue: random.int(Int32.self)),
            remark: random.chance(50) ? nil : string(minCount: binary ? 1 : 0),
            extFields: fields,
            body: body,
            serializeType: type
        )
    }
}
