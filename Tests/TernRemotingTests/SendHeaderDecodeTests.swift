import NIOCore
@testable import TernRemoting
import Testing

/// Send headers as clients write them, decoded into tables that keep keys interned and values in the header:
/// every read must give what the String form of the same header gives, and hostile headers fail cleanly.
@Suite("send header decode")
struct SendHeaderDecodeTests {
    /// SEND_MESSAGE_V2 as the Java 4.x client writes it (fastjson: top-level keys sorted, extFields as the
    /// header class declares them, every value a string, properties with \u0001 / \u0002 separators).
    static let javaV2JSON =
        #"{"code":310,"extFields":{"a":"please_rename_unique_group_name","b":"TernBenchTopic","c":"TBW102","#
        + #""d":"4","e":"3","f":"0","g":"1700000000123","h":"0","#
        + #""i":"UNIQ_KEY\u0001AC11000100002A9F0000000000000001\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002","#
        + #""j":"0","k":"false","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","opaque":4711,"#
        + #""serializeTypeCurrentRPC":"JSON","version":399}"#

    static let properties = "UNIQ_KEY\u{1}AC11000100002A9F0000000000000001\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}"

    /// The same fields in a ROCKETMQ binary header (Java with `rocketmq.serialize.type=ROCKETMQ`).
    static func javaV2Binary(_ fields: [(String, [UInt8])] = javaV2Pairs) -> [UInt8] {
        var header = FrameBuilder.binaryFixedFields(code: 310, language: 0, version: 399, opaque: 4711, flag: 0)
        header.be(Int32(0))
        var ext = FrameBuilder()
        for (key, value) in fields {
            ext.be(Int16(key.utf8.count))
            ext.raw(key)
            ext.be(Int32(value.count))
            ext.raw(value)
        }
        header.be(Int32(ext.bytes.count))
        header.raw(ext.bytes)
        return FrameBuilder.frame(type: 1, header: header.bytes, body: Array("body".utf8))
    }

    static let javaV2Pairs: [(String, [UInt8])] = [
        ("a", "please_rename_unique_group_name"), ("b", "TernBenchTopic"), ("c", "TBW102"), ("d", "4"), ("e", "3"),
        ("f", "0"), ("g", "1700000000123"), ("h", "0"), ("i", properties), ("j", "0"), ("k", "false"),
        ("m", "false"), ("n", "broker-a"),
    ].map { ($0.0, Array($0.1.utf8)) }

    static let shortNames = RemotingExtFields.KeySet(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"])

    /// Every field read by position equals the String form of the same field, and absent keys are absent.
    func expectJavaV2(_ fields: RemotingExtFields) throws {
        #expect(fields.count == 13)
        #expect(fields.keys == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "m", "n"])
        let at = fields.locate(Self.shortNames)
        for (k, key) in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"].enumerated() {
            if key == "l" {
                #expect(at[k] == nil)
                continue
            }
            let i = try #require(at[k], "\(key)")
            #expect(fields.key(at: i) == key)
            #expect(fields.string(at: i) == fields[key])
            #expect(fields.utf8(at: i) == Array(fields[key]!.utf8))
            #expect(fields.value(at: i, equalsUTF8: Array(fields[key]!.utf8)))
            #expect(fields.int64(at: i) == fields.int64(key))
            #expect(fields.bool(at: i) == fields.bool(key))
        }
        #expect(fields["a"] == "please_rename_unique_group_name")
        #expect(fields["i"] == Self.properties)
        #expect(fields.int64(at: at[6]!) == 1_700_000_000_123)
        #expect(fields.int64(at: at[4]!) == 3)
        #expect(fields.bool(at: at[10]!) == false)
        #expect(fields.int64(at: at[0]!) == nil)
    }

    @Test func javaV2JSONDecodes() throws {
        let command = try #require(try decodeOne(FrameBuilder.jsonFrame(Self.javaV2JSON, body: [1])))
        #expect(command.code == 310)
        #expect(command.language == .java)
        #expect(command.opaque == 4711)
        #expect(command.version == 399)
        try expectJavaV2(command.extFields)
    }

    @Test func javaV2BinaryDecodesAsTheJSONForm() throws {
        let command = try #require(try decodeOne(Self.javaV2Binary()))
        #expect(command.serializeType == .rocketmq)
        #expect(command.opaque == 4711)
        try expectJavaV2(command.extFields)
        let json = try #require(try decodeOne(FrameBuilder.jsonFrame(Self.javaV2JSON)))
        #expect(command.extFields == json.extFields)
    }

    /// Binary values are raw UTF-8: non-ASCII and invalid bytes read as their repaired String, ASCII ones as is.
    @Test func binaryValuesReadAsTheirString() throws {
        let pairs: [(String, [UInt8])] = [
            ("b", Array("中文主题".utf8)), ("x", [0x41, 0xFF, 0x42]), ("e", Array(" 7".utf8)), ("é", Array("v".utf8)),
            ("defaultTopicQueueNums", Array("8".utf8)), ("unknownLongKeyOverFifteen", Array("u".utf8)),
        ]
        let fields = try #require(try decodeOne(Self.javaV2Binary(pairs))).extFields
        #expect(fields["b"] == "中文主题")
        #expect(fields["x"] == "A\u{FFFD}B")
        #expect(fields.utf8("x") == Array("A\u{FFFD}B".utf8))
        #expect(fields.int64("e") == 7)
        #expect(fields["é"] == "v")
        #expect(fields.int32("defaultTopicQueueNums") == 8)
        #expect(fields["unknownLongKeyOverFifteen"] == "u")
        #expect(fields.keys == pairs.map(\.0))
    }

    /// Keys with escapes, keys equal only after decoding, duplicates (the last value wins, as before) and
    /// unknown long keys all land where a String-keyed table puts them.
    @Test func awkwardKeysLocateAsStrings() throws {
        let json = #"{"code":310,"extFields":{"\u0062":"T1","a":"G","b":"T2","caf\u00e9":"x","c":"1","c":"2","#
            + #""someUnknownKeyLongerThan15":"y","é":"z"}}"#
        let fields = try #require(try decodeOne(FrameBuilder.jsonFrame(json))).extFields
        #expect(fields.count == 6)
        #expect(fields["b"] == "T2")
        #expect(fields["c"] == "2")
        let at = fields.locate(RemotingExtFields.KeySet(["c", "b", "café", "someUnknownKeyLongerThan15", "é", "zz"]))
        #expect(at[0].map(fields.string(at:)) == "2")
        #expect(at[1].map(fields.string(at:)) == "T2")
        #expect(at[2].map(fields.string(at:)) == "x")
        #expect(at[3].map(fields.string(at:)) == "y")
        #expect(at[4].map(fields.string(at:)) == "z")
        #expect(at[5] == nil)
        // U+212A KELVIN SIGN is canonically equal to "K": a String-keyed lookup finds it, so locate does too.
        let kelvin = try #require(try decodeOne(FrameBuilder.jsonFrame(#"{"code":10,"extFields":{"\u212a":"k"}}"#)))
        #expect(kelvin.extFields.locate(RemotingExtFields.KeySet(["K"]))[0] != nil)
    }

    @Test func knownKeysAreTheirStrings() {
        for key in ["a", "m", "z", "producerGroup", "defaultTopicQueueNums", "suspendTimeoutMillis", "Signature"] {
            let known = Array(key.utf8).withUnsafeBytes { RemotingExtFields.knownKey($0) }
            #expect(known?.key == key)
            #expect(known?.signature == RemotingExtFields.signature(key))
        }
        for key in ["A", "0", "", "producerGroupX", "Topic", "ab"] {
            #expect(Array(key.utf8).withUnsafeBytes { RemotingExtFields.knownKey($0) } == nil, "\(key)")
        }
    }

    /// The language is matched on its bytes; other spellings take the String route and mean what they did.
    @Test func languageSpellings() throws {
        let cases: [(String, LanguageCode)] = [
            (#""JAVA""#, .java), (#""CPP""#, .cpp), (#""\u0043PP""#, .cpp), (#""RUST""#, .rust), (#""java""#, .other),
            (#""3""#, .python), ("1", .cpp), (#""""#, .other), ("null", .other),
        ]
        for (value, language) in cases {
            let json = #"{"code":310,"language":"# + value + #","opaque":9,"extFields":{"b":"T"}}"#
            let command = try #require(try decodeOne(FrameBuilder.jsonFrame(json)), "\(value)")
            #expect(command.language == language, "\(value)")
            #expect(command.opaque == 9)
            #expect(command.extFields["b"] == "T")
        }
    }

    /// Hostile send headers: a clear error, never a crash (a skipped value is checked as a read one is).
    @Test func hostileSendHeadersFailCleanly() throws {
        let base = Array(Self.javaV2JSON.utf8)
        for cut in stride(from: 1, to: base.count - 1, by: 7) {
            #expect(throws: RemotingError.self) { try decodeOne(FrameBuilder.frame(type: 0, header: Array(base[0 ..< cut]))) }
        }
        let bad = [
            #"{"code":310,"serializeTypeCurrentRPC":"JS\u00","extFields":{}}"#,
            #"{"code":310,"serializeTypeCurrentRPC":"JSON,"extFields":{}}"#,
            #"{"code":310,"language":"JAVA"x,"extFields":{}}"#,
            #"{"code":310,"extFields":{"a\":"x"}}"#,
            #"{"code":99999999999,"extFields":{}}"#,
        ]
        for json in bad {
            #expect(throws: RemotingError.self, "\(json)") { try decodeOne(FrameBuilder.jsonFrame(json)) }
        }
        // A huge number in extFields is kept as text and refused by the typed read, not parsed into garbage.
        let huge = try #require(try decodeOne(FrameBuilder.jsonFrame(
            #"{"code":310,"extFields":{"e":99999999999999999999999,"g":"-99999999999999999999"}}"#))).extFields
        #expect(huge["e"] == "99999999999999999999999")
        #expect(huge.int64("e") == nil)
        #expect(huge.int64("g") == nil)
        // Binary: a key length past the section, a negative value length.
        var header = FrameBuilder.binaryFixedFields(code: 310, language: 0, version: 1, opaque: 1, flag: 0)
        header.be(Int32(0))
        header.be(Int32(7))
        header.be(Int16(1))
        header.raw("b")
        header.be(Int32(-1))
        #expect(throws: RemotingError.self) { try decodeOne(FrameBuilder.frame(type: 1, header: header.bytes)) }
        let truncated = Self.javaV2Binary()
        for cut in stride(from: 30, to: truncated.count - 4, by: 5) {
            var short = Array(truncated[8 ..< cut])
            // Keep the header's own extFields length: the section now runs past the header's end.
            short = FrameBuilder.frame(type: 1, header: short)
            #expect(throws: RemotingError.self) { try decodeOne(short) }
        }
    }
}
