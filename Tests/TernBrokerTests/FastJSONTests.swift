import NIOCore
import TernProtocol
import TernTestSupport
import Testing

/// The fastjson dialect and the admin bodies in it. Golden texts are derived from apache/rocketmq 4.9.7's classes:
/// fastjson writes a bean's getters in alphabetical order without whitespace, a map with its keys as values.
@Suite("fastjson dialect")
struct FastJSONTests {
    static let mq = MessageQueue(topic: "T", brokerName: "broker-a", queueId: 1)

    /// `admin.TopicStatsTable { HashMap<MessageQueue, TopicOffset> offsetTable }`; `MessageQueue` getters
    /// getBrokerName / getQueueId / getTopic; `TopicOffset` getters getLastUpdateTimestamp / getMaxOffset / getMinOffset.
    @Test func topicStatsTableGolden() throws {
        let body = TopicStatsBody(offsetTable: [.init(queue: Self.mq, minOffset: 2, maxOffset: 9, lastUpdateTimestamp: 77)])
        let golden = #"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"lastUpdateTimestamp":77,"maxOffset":9,"minOffset":2}}}"#
        #expect(FastJSONWriter.write(body.fastJSON) == golden)
        #expect(try TopicStatsBody.decode(from: ByteBuffer(string: golden)) == body)
    }

    /// `admin.ConsumeStats { double consumeTps; HashMap<MessageQueue, OffsetWrapper> offsetTable }`; `OffsetWrapper`
    /// getters getBrokerOffset / getConsumerOffset / getLastTimestamp (`computeTotalDiff` is no getter). A double
    /// is written as Java's `Double.toString` (`0.0`).
    @Test func consumeStatsGolden() throws {
        let body = ConsumeStatsBody(offsetTable: [.init(queue: Self.mq, brokerOffset: 10, consumerOffset: 4, lastTimestamp: 5)])
        let golden = #"{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":5}}}"#
        #expect(FastJSONWriter.write(body.fastJSON) == golden)
        #expect(try ConsumeStatsBody.decode(from: ByteBuffer(string: golden)) == body)
        #expect(FastJSONWriter.write(ConsumeStatsBody(offsetTable: [], consumeTps: 1.5).fastJSON) == #"{"consumeTps":1.5,"offsetTable":{}}"#)
    }

    /// `KVTable { HashMap<String, String> table }`.
    @Test func kvTableGolden() throws {
        let body = KVTableBody(table: ["putTps": "0.0 0.0 0.0", "brokerVersionDesc": "V4_9_7"])
        let golden = #"{"table":{"brokerVersionDesc":"V4_9_7","putTps":"0.0 0.0 0.0"}}"#
        #expect(FastJSONWriter.write(body.fastJSON) == golden)
        #expect(try KVTableBody.decode(from: ByteBuffer(string: golden + "\0")) == body)
    }

    /// Java's `ConsumerOffsetSerializeWrapper` writes `Integer` keys unquoted; whitespace anywhere is accepted.
    @Test func readsValueKeys() throws {
        let v = try FastJSONReader.read(#" { "offsetTable" : { "t@g" : { 0 : 5 , 1:-3 } }, "d": [1.5e3, -2.25, 9223372036854775808] } "#)
        let inner = try #require(v["offsetTable"]?["t@g"]?.members)
        #expect(inner == [.init(.integer(0), .integer(5)), .init(.integer(1), .integer(-3))])
        #expect(v["d"] == .array([.double(1500), .double(-2.25), .double(9_223_372_036_854_775_808)]))
    }

    @Test func stringsEscapeAndRoundTrip() throws {
        let s = "q\"b\\s/n\nt\tc\u{01}e\u{7F}é😀"
        let text = FastJSONWriter.write(.string(s))
        #expect(text == #""q\"b\\s/n\nt\tc\u0001e\u007fé😀""#)
        #expect(try FastJSONReader.read(text) == .string(s))
        #expect(try FastJSONReader.read(#""\ud83d\ude00\u00e9\/""#) == .string("😀é/"))
        // A lone surrogate reads as U+FFFD rather than failing the whole body.
        #expect(try FastJSONReader.read(#""\ud83dx""#) == .string("\u{FFFD}x"))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "\"abc", "{\"a\" 1}", "{\"a\":1,}", "tru", "-", "1.", "1e", "1e999",
                      "\"\\x\"", "\"\\u12\"", "{} x", "[1] [2]", String(repeating: "[", count: 200)])
    func refusesMalformed(_ text: String) {
        #expect(throws: FastJSONError.self) { try FastJSONReader.read(text) }
    }

    /// Well-formed text of the wrong shape is refused by the body decoders, naming the field.
    @Test func bodiesRefuseWrongShapes() {
        #expect(throws: FastJSONError.field("offsetTable", in: "TopicStatsTable")) {
            try TopicStatsBody(fastJSON: FastJSONReader.read(#"{"offsetTable":[]}"#))
        }
        #expect(throws: FastJSONError.field("queueId", in: "MessageQueue")) {
            try ConsumeStatsBody(fastJSON: FastJSONReader.read(#"{"offsetTable":{{"brokerName":"b","queueId":4294967296,"topic":"t"}:{}}}"#))
        }
        #expect(throws: FastJSONError.field("table", in: "KVTable")) { try KVTableBody(fastJSON: FastJSONReader.read(#"{"table":{"a":1}}"#)) }
    }

    /// Random values written and read back are equal (the fuzz target's invariant, here over generated values).
    @Test func generatedValuesRoundTrip() throws {
        var random = SplitMix64(seed: 0xFA57_0001)
        func value(_ depth: Int) -> FastJSON {
            switch Int.random(in: 0 ..< (depth > 3 ? 5 : 7), using: &random) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &random))
            case 2: return .integer(Int64.random(in: .min ... .max, using: &random))
            case 3: return .double(Double(Int.random(in: -1_000_000 ... 1_000_000, using: &random)) / 64)
            case 4: return .string(String((0 ..< Int.random(in: 0 ... 6, using: &random)).map { _ in
                Character(Unicode.Scalar(UInt8.random(in: 0 ... 127, using: &random))) }))
            case 5: return .array((0 ..< Int.random(in: 0 ... 3, using: &random)).map { _ in value(depth + 1) })
            default: return .object((0 ..< Int.random(in: 0 ... 3, using: &random)).map { _ in .init(value(depth + 1), value(depth + 1)) })
            }
        }
        for _ in 0 ..< 2_000 {
            let v = value(0)
            #expect(try FastJSONReader.read(FastJSONWriter.write(v)) == v)
        }
    }
}
