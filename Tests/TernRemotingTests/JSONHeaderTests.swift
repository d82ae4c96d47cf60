import NIOCore
import TernRemoting
import Testing

@Suite("JSON header leniency")
struct JSONHeaderTests {
    private func decode(_ json: String) throws -> RemotingCommand {
        try #require(try decodeOne(FrameBuilder.jsonFrame(json)))
    }

    private func decode(bytes: [UInt8]) throws -> RemotingCommand {
        try #require(try decodeOne(FrameBuilder.frame(type: 0, header: bytes)))
    }

    @Test func extFieldsValueKinds() throws {
        let command = try decode(
            #"{"code":11,"extFields":{"s":"x","n":4,"neg":-12,"big":1700000000000,"f":4.0,"e":1e3,"frac":2.5,"#
                + #""t":true,"fa":false,"nul":null,"obj":{"a":[1,{"b":null}]},"arr":[1,"2"]}}"#
        )
        let fields = command.extFields
        #expect(fields["s"] == "x")
        #expect(fields["n"] == "4")
        #expect(fields["neg"] == "-12")
        #expect(fields["big"] == "1700000000000")
        #expect(fields["f"] == "4")
        #expect(fields["e"] == "1000")
        #expect(fields["frac"] == "2.5")
        #expect(fields["t"] == "true" && fields.bool("t") == true)
        #expect(fields["fa"] == "false" && fields.bool("fa") == false)
        #expect(fields["nul"] == nil)
        #expect(fields["obj"] == #"{"a":[1,{"b":null}]}"#)
        #expect(fields["arr"] == #"[1,"2"]"#)
        #expect(fields.count == 11)
    }

    @Test func escapes() throws {
        let command = try decode(
            #"{"extFields":{"p":"a\u0001b\u0002c","q":"\"\\\/\b\f\n\r\t","e":"\u00e9\u4E2D","pair":"\ud83d\ude00","#
                + #""lone":"x\ud800y","low":"\udc00","hiThenChar":"\ud83d\u0041","odd":"\q"}}"#
        )
        #expect(command.extFields["p"] == "a\u{1}b\u{2}c")
        #expect(command.extFields["q"] == "\"\\/\u{8}\u{C}\n\r\t")
        #expect(command.extFields["e"] == "é中")
        #expect(command.extFields["pair"] == "😀")
        #expect(command.extFields["lone"] == "x\u{FFFD}y")
        #expect(command.extFields["low"] == "\u{FFFD}")
        #expect(command.extFields["hiThenChar"] == "\u{FFFD}A")
        #expect(command.extFields["odd"] == "q")
    }

    @Test func rawUTF8AndInvalidBytes() throws {
        var header = Array(#"{"remark":""#.utf8)
        header += Array("中😀".utf8) + [0xFF, 0xC3] + [0x01, 0x09]  // invalid UTF-8, raw control bytes
        header += Array(#"","extFields":{"k\#u{e9}":"v"}}"#.utf8)
        let command = try decode(bytes: header)
        #expect(command.remark == "中😀\u{FFFD}\u{FFFD}\u{1}\t")
        #expect(command.extFields["ké"] == "v")
        // Invalid UTF-8 in an escaped string too.
        let escaped = try decode(bytes: Array(#"{"remark":"\n"#.utf8) + [0xFE] + Array(#""}"#.utf8))
        #expect(escaped.remark == "\n\u{FFFD}")
    }

    @Test func whitespaceBOMAndTrailingBytes() throws {
        let command = try decode(
            "\u{FEFF} \r\n\t{ \"code\" : 10 , \"extFields\" : { \"a\" : \"b\" } , \"flag\" : 2 }\n \t"
        )
        #expect(command.code == 10 && command.isOneway && command.extFields["a"] == "b")
        let nul = try decode(bytes: Array(#"{"code":1}"#.utf8) + [0, 0])
        #expect(nul.code == 1)
        #expect(try decode("{}") == RemotingCommand(code: 0, version: 0))
    }

    @Test func unknownKeysAreSkipped() throws {
        let command = try decode(
            #"{"serializeTypeCurrentRPC":"JSON","nested":{"a":{"b":[1,2,{"c":"}"}]},"d":"]"},"list":[[],{},"x"],"#
                + #""n":-1.5e-3,"b":true,"z":null,"code":42,"extFields":null}"#
        )
        #expect(command.code == 42)
        #expect(command.extFields.isEmpty)
    }

    @Test func topLevelFieldsAreLenient() throws {
        let command = try decode(
            #"{"code":"10","opaque":-2147483648,"flag":"3","version":1.0,"language":"GO","remark":null}"#
        )
        #expect(command.code == 10)
        #expect(command.opaque == Int32.min)
        #expect(command.isResponse && command.isOneway)
        #expect(command.version == 1)
        #expect(command.language == .go)
        #expect(command.remark == nil)
        #expect(try decode(#"{"language":"KLINGON"}"#).language == .other)
        #expect(try decode(#"{"language":1}"#).language == .cpp)
        #expect(try decode(#"{"remark":7}"#).remark == "7")
    }

    /// Top-level keys are matched on their bytes and integers parsed in place; escaped keys, spacing and
    /// out-of-range numbers take the general path and decode as before.
    @Test func topLevelKeysAndIntegersOnTheFastPath() throws {
        let spaced = try decode("{ \"code\" : 310 ,\"opaque\":\t-7\n,\"flag\":0 }")
        #expect(spaced.code == 310 && spaced.opaque == -7 && spaced.flag.rawValue == 0)
        let escaped = try decode(#"{"co\u0064e":12,"\u006fpaque":5,"extFields":{"a":"1"}}"#)
        #expect(escaped.code == 12 && escaped.opaque == 5 && escaped.extFields["a"] == "1")
        #expect(try decode(#"{"codex":9,"cod":8,"code":7}"#).code == 7)
        #expect(try decode(#"{"opaque":2147483647}"#).opaque == Int32.max)
        #expect(throws: RemotingError.self) { try decode(#"{"opaque":2147483648}"#) }
        #expect(throws: RemotingError.self) { try decode(#"{"code":123456789012345}"#) }
        #expect(try decode(#"{"code":1e1}"#).code == 10)
    }

    @Test func duplicateKeysKeepTheLastValue() throws {
        let command = try decode(#"{"extFields":{"a":"1","b":"2","a":"3"}}"#)
        #expect(command.extFields["a"] == "3")
        #expect(command.extFields.keys == ["a", "b"])
    }
}
