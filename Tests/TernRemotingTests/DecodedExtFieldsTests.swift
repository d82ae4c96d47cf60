import NIOCore
import TernRemoting
import Testing

/// Values decoded from a JSON header stay in the header bytes until read; every accessor must read them as the
/// String form would.
@Suite("extFields decoded from a header")
struct DecodedExtFieldsTests {
    static func decoded(_ extFields: String) throws -> RemotingExtFields {
        let json = #"{"code":310,"opaque":1,"flag":0,"extFields":"# + extFields + "}"
        return try #require(try decodeOne(FrameBuilder.jsonFrame(json))).extFields
    }

    @Test func verbatimEscapedAndNumberValuesReadAsText() throws {
        let f = try Self.decoded(#"{"plain":"tern-bench-producer-group","esc":"a\u0001b\u0002\"q\"\\","num":-12,"#
            + #""big":12345678901234567890,"dbl":4.0,"frac":1.5,"bool":true,"nul":null,"utf":"caf\u00e9 ü","#
            + #""obj":{"x":[1,2]}}"#)
        #expect(f["plain"] == "tern-bench-producer-group")
        #expect(f["esc"] == "a\u{01}b\u{02}\"q\"\\")
        #expect(f["num"] == "-12")
        #expect(f["big"] == "12345678901234567890")
        #expect(f["dbl"] == "4")
        #expect(f["frac"] == "1.5")
        #expect(f["bool"] == "true")
        #expect(f["nul"] == nil)
        #expect(f["utf"] == "café ü")
        #expect(f["obj"] == #"{"x":[1,2]}"#)
        #expect(f.count == 9)
        #expect(Array(f).map(\.key) == ["plain", "esc", "num", "big", "dbl", "frac", "bool", "utf", "obj"])
        #expect(Array(f).map(\.value) == f.keys.map { f[$0]! })
    }

    @Test func utf8AndComparisonWithoutAString() throws {
        let f = try Self.decoded(#"{"plain":"TernBenchTopicWithALongName","esc":"k\u0001v\u0002","utf":"é"}"#)
        #expect(f.utf8("plain") == Array("TernBenchTopicWithALongName".utf8))
        #expect(f.utf8("esc") == [UInt8(ascii: "k"), 1, UInt8(ascii: "v"), 2])
        #expect(f.utf8("utf") == Array("é".utf8))
        #expect(f.utf8("missing") == nil)
        #expect(f.value("plain", equalsUTF8: Array("TernBenchTopicWithALongName".utf8)))
        #expect(!f.value("plain", equalsUTF8: Array("TernBenchTopicWithALongNam".utf8)))
        #expect(f.value("esc", equalsUTF8: [UInt8(ascii: "k"), 1, UInt8(ascii: "v"), 2]))
        #expect(!f.value("missing", equalsUTF8: []))
    }

    /// An escaped value is read in pieces straight from the header (stretches between escapes, each escape
    /// decoded on the stack); the pieces joined are the value's String UTF-8, invalid bytes repaired the same way.
    @Test func escapedValuesReadInPiecesAsTheirString() throws {
        let pieces: [[UInt8]] = [
            Array("plain".utf8), Array(#"\n"#.utf8), Array(#"\u0001"#.utf8), Array(#"\u00e9"#.utf8),
            Array(#"\ud83d\ude00"#.utf8), Array(#"\ud800"#.utf8), Array(#"\/"#.utf8), Array(#"\""#.utf8),
            Array(#"\\"#.utf8), Array("é€".utf8), [0xC3], [0xFF], [0xE2, 0x82], [0xA9], [0xF0, 0x9F, 0x98],
            // ASCII-only values take the one-pass path (JSONReader.withUnescapedASCII), the rest the runs.
            Array(#"\t\b\f\r"#.utf8), Array(#"\u001F"#.utf8), Array(#"\u007f"#.utf8), Array(#"\u0080"#.utf8),
            Array(#"\q"#.utf8), Array("KEYS".utf8), Array(#"\u0002"#.utf8),
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 300 {
            let value = (0 ..< Int.random(in: 1 ... 8, using: &rng)).flatMap { _ in pieces.randomElement(using: &rng)! }
            let header = Array(#"{"code":310,"opaque":1,"flag":0,"extFields":{"k":"x","v":""#.utf8) + value
                + Array(#""}}"#.utf8)
            let f = try #require(try decodeOne(FrameBuilder.frame(type: 0, header: header))).extFields
            let expected = Array(try #require(f["v"]).utf8)
            var joined: [UInt8] = []
            #expect(f.forEachUTF8Run(ofValueFor: "v") { joined.append(contentsOf: $0) })
            #expect(joined == expected, "\(value)")
            #expect(f.utf8("v") == expected)
            #expect(f.value("v", equalsUTF8: expected))
            #expect(!f.value("v", equalsUTF8: expected + [0]))
            #expect(!f.value("v", equalsUTF8: Array(expected.dropLast())))
            // Gathered with the other fields into one buffer: the same bytes, in the order asked.
            let all = Array(try #require(f["v"]).utf8) + Array("x".utf8) + expected
            #expect(Self.gathered(f, [1, 0, 1], capacity: all.count) == Array(all), "\(value)")
            #expect(Self.gathered(f, [1, 0, 1], capacity: all.count - 1) == nil)
        }
        // Past the one-pass path's stack limit: read as runs, the same bytes.
        let long = String(repeating: #"ab\u0001"#, count: 400)
        let l = try Self.decoded(#"{"v":""# + long + #""}"#)
        #expect(l.utf8("v") == Array(String(repeating: "ab\u{01}", count: 400).utf8))
        let f = try Self.decoded(#"{"k":"x"}"#)
        #expect(!f.forEachUTF8Run(ofValueFor: "missing") { _ in Issue.record("called for a missing key") })
    }

    /// `copyUTF8(ofValuesAt:into:)` into a buffer of `capacity` bytes; nil when it reports they do not fit.
    static func gathered(_ f: RemotingExtFields, _ indices: [Int], capacity: Int) -> [UInt8]? {
        indices.withUnsafeBufferPointer { indices in
            withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { buffer in
                f.copyUTF8(ofValuesAt: indices, into: buffer).map { Array(UnsafeRawBufferPointer(rebasing: buffer[0 ..< $0])) }
            }
        }
    }

    @Test func valuesGatheredAsTheirStrings() throws {
        var f = try Self.decoded(#"{"plain":"TernBench","esc":"k\u0001v\u0002","num":-12,"utf":"caf\u00e9","e":""}"#)
        f["text"] = "set later"
        let expected = Array(("set later" + "café" + "" + "-12" + "k\u{01}v\u{02}" + "TernBench").utf8)
        #expect(Self.gathered(f, [5, 3, 4, 2, 1, 0], capacity: 64) == expected)
        #expect(Self.gathered(f, [5, 3, 4, 2, 1, 0], capacity: expected.count) == expected)
        #expect(Self.gathered(f, [5, 3, 4, 2, 1, 0], capacity: expected.count - 1) == nil)
        #expect(Self.gathered(f, [4], capacity: 0) == [])
        #expect(Self.gathered(f, [], capacity: 0) == [])
        // Fields that are not decoded tokens (set as text): the same path's fallback.
        let t: RemotingExtFields = ["a": "x", "b": "yz"]
        #expect(Self.gathered(t, [1, 0], capacity: 3) == Array("yzx".utf8))
        #expect(Self.gathered(t, [1, 0], capacity: 2) == nil)
    }

    /// String scans pass over plain ASCII 8 bytes at a time: a quote, backslash or non-ASCII byte at every
    /// offset of a word, and at word ends, is still found.
    @Test func specialBytesAtEveryOffsetOfAWord() throws {
        let specials: [(json: String, text: String)] = [(#"\""#, "\""), (#"\\"#, "\\"), ("é", "é"), (#"\u0001"#, "\u{01}")]
        for length in 0 ..< 20 {
            for at in 0 ... length {
                for special in specials {
                    let head = String(repeating: "a", count: at), tail = String(repeating: "b", count: length - at)
                    let f = try Self.decoded(#"{"k":""# + head + special.json + tail + #"","n":"plain"}"#)
                    let expected = head + special.text + tail
                    #expect(f["k"] == expected, "\(length) \(at) \(special.json)")
                    #expect(f.utf8("k") == Array(expected.utf8))
                    #expect(Self.gathered(f, [0, 1], capacity: 64) == Array((expected + "plain").utf8))
                }
                let plain = String(repeating: "p", count: length)
                let g = try Self.decoded(#"{"k":""# + plain + #"","n":1}"#)
                #expect(g["k"] == plain && g["n"] == "1")
            }
        }
    }

    /// The ACL keys are matched by their bytes before the key table: near misses keep their own names.
    @Test func aclKeysAndTheirNearMisses() throws {
        let f = try Self.decoded(#"{"AccessKey":"a","Signature":"b","AccessKez":"c","Signaturf":"d","BccessKey":"e","#
            + #""SignatureX":"f","accessKey":"g"}"#)
        #expect(f.keys == ["AccessKey", "Signature", "AccessKez", "Signaturf", "BccessKey", "SignatureX", "accessKey"])
        #expect(f["AccessKey"] == "a" && f["Signature"] == "b" && f["AccessKez"] == "c" && f["Signaturf"] == "d")
        #expect(f["BccessKey"] == "e" && f["SignatureX"] == "f" && f["accessKey"] == "g")
        // The interned keys' signatures: 9 bytes, first and last bytes.
        #expect(f.keySignature(at: 0) == 9 | UInt32(UInt8(ascii: "A")) << 16 | UInt32(UInt8(ascii: "y")) << 24)
        #expect(f.keySignature(at: 1) == 9 | UInt32(UInt8(ascii: "S")) << 16 | UInt32(UInt8(ascii: "e")) << 24)
    }

    @Test func typedAccessorsOnTokens() throws {
        let f = try Self.decoded(#"{"n":-42,"s":"17","plus":"+5","max":"9223372036854775807","over":9223372036854775808,"#
            + #""min":-9223372036854775808,"spaced":" 7 ","t":"true","one":1,"F":"FALSE","zero":"0","x":"4x","e":"","m":"-"}"#)
        #expect(f.int64("n") == -42)
        #expect(f.int64("s") == 17)
        #expect(f.int64("plus") == 5)
        #expect(f.int64("max") == Int64.max)
        #expect(f.int64("over") == nil)
        #expect(f.int64("min") == Int64.min)
        #expect(f.int64("spaced") == 7)
        #expect(f.int64("x") == nil)
        #expect(f.int64("e") == nil)
        #expect(f.int64("m") == nil)
        #expect(f.int32("n") == -42)
        #expect(f.bool("t") == true)
        #expect(f.bool("one") == true)
        #expect(f.bool("F") == false)
        #expect(f.bool("zero") == false)
        #expect(f.bool("x") == nil)
    }

    @Test func editsAndEqualityMixTokensAndText() throws {
        var f = try Self.decoded(#"{"a":"x","b":"long value longer than fifteen","c":1}"#)
        f["b"] = "short"
        f["c"] = nil
        f["d"] = "new"
        #expect(f == ["a": "x", "b": "short", "d": "new"])
        #expect(f.description == "[a: x, b: short, d: new]")
        let dup = try Self.decoded(#"{"k":"first","k":"second"}"#)
        #expect(dup["k"] == "second" && dup.count == 1)
    }

    @Test func malformedStringsStillFailTheHeader() {
        for bad in [#"{"a":"\u12"}"#, #"{"a":"abc"#, #"{"a":"x\"#, #"{"a":"\uZZZZ"}"#] {
            #expect(throws: RemotingError.self) { try Self.decoded(bad) }
        }
    }

    @Test func reencodedTokensMatchTheirText() throws {
        let f = try Self.decoded(#"{"i":"k\u0001v\u0002","n":7,"p":"plain"}"#)
        var response = RemotingCommand(code: 0, flag: .response, extFields: f)
        response.opaque = 3
        let decoded = try #require(try decodeOne(Array(try encode(response).readableBytesView)))
        #expect(decoded.extFields == ["i": "k\u{01}v\u{02}", "n": "7", "p": "plain"])
    }
}
