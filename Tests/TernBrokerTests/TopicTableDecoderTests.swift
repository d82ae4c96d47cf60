import Foundation
import TernProtocol
import TernTestSupport
import Testing

/// The fast topic-table reader must agree with `JSONDecoder` on every input: same table, or both refuse.
@Suite struct TopicTableDecoderTests {
    static func sample() -> TopicConfigSerializeWrapper {
        var table: [String: TopicConfig] = [:]
        for name in ["TopicA", "%RETRY%G-1", "quote\"and\\slash", "tab\tnew\nline", "ünïcødé-主题", "TBW102"] {
            table[name] = TopicConfig(topicName: name, readQueueNums: 3, writeQueueNums: 5, perm: 6,
                                      topicFilterType: "MULTI_TAG", topicSysFlag: 2, order: name.count % 2 == 0)
        }
        return TopicConfigSerializeWrapper(topicConfigTable: table, dataVersion: DataVersion(timestamp: 1_700_000_000_123, counter: 42))
    }

    static func slow(_ bytes: [UInt8]) -> TopicConfigSerializeWrapper? {
        try? JSONDecoder().decode(TopicConfigSerializeWrapper.self, from: Data(bytes))
    }

    @Test(arguments: [true, false])
    func readsWhatTheEncoderWrites(pretty: Bool) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : []
        let bytes = Array(try encoder.encode(Self.sample()))
        #expect(TopicTableDecoder.fastPath(bytes) == Self.sample(), "the encoder's own output must take the fast path")
        #expect(try TopicTableDecoder.decode(bytes) == Self.sample())
    }

    @Test func defaultsAndUnknownKeysAsTheCodablePath() throws {
        let text = """
            {"extra": [1, -2.5e3, {"x": [true, null]}, "s"], "dataVersion": {"timestamp": 17, "counter": 3, "more": {}},
             "topicConfigTable": {"T": {"topicName": "T", "perm": 4, "unknown": [[]]}, "U": {"topicName": "U", "order": true}}}
            """
        let bytes = Array(text.utf8)
        let fast = try #require(TopicTableDecoder.fastPath(bytes))
        #expect(fast == Self.slow(bytes))
        #expect(fast.topicConfigTable["T"] == TopicConfig(topicName: "T", perm: 4))
        #expect(fast.dataVersion == DataVersion(timestamp: 17, counter: 3))
    }

    @Test func mutatedInputsDecodeAlikeOrFailAlike() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let base = Array(try encoder.encode(Self.sample()))
        var rng = SplitMix64(seed: 0x70_71C5)
        let alphabet = Array("{}[]\":,0123456789-tfn \\ue".utf8)
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = alphabet.randomElement(using: &rng)!
                case 1: bytes.remove(at: i)
                default: bytes.insert(alphabet.randomElement(using: &rng)!, at: i)
                }
            }
            let fast = try? TopicTableDecoder.decode(bytes)
            #expect(fast == Self.slow(bytes), "disagree on \(String(decoding: bytes, as: UTF8.self))")
        }
    }
}
