import NIOCore
import TernRemoting
import Testing

@Suite("extFields templates")
struct ExtFieldsTemplateTests {
    static let template = RemotingExtFields.Template([
        "id": .hex128(slot: 0), "n": .decimal(slot: 2), "m": .decimal(slot: 3), "c": .text("const"),
    ])

    @Test func placeholdersReadAsText() {
        let f = RemotingExtFields(Self.template, words: 0x7F00_0001_0000_2A9F, 0xAB, UInt64(bitPattern: -3), 42)
        #expect(f["id"] == "7F00000100002A9F00000000000000AB")
        #expect(f["n"] == "-3" && f.int64("n") == -3)
        #expect(f["m"] == "42" && f.int32("m") == 42)
        #expect(f["c"] == "const")
        #expect(f.keys == ["id", "n", "m", "c"])
        #expect(f.utf8("n") == Array("-3".utf8))
        #expect(f == ["id": "7F00000100002A9F00000000000000AB", "n": "-3", "m": "42", "c": "const"])
    }

    @Test func encodedLikeTheirText() throws {
        let f = RemotingExtFields(Self.template, words: .max, 0, UInt64(bitPattern: Int64.min), 0)
        let text: RemotingExtFields = ["id": "FFFFFFFFFFFFFFFF0000000000000000", "n": "-9223372036854775808", "m": "0",
                                       "c": "const"]
        #expect(f == text)
        var response = RemotingCommand(code: 0, opaque: 9, flag: .response, extFields: f)
        let bytes = try encode(response)
        response.extFields = text
        #expect(bytes == (try encode(response)))
        #expect(try decodeOne(Array(bytes.readableBytesView))?.extFields == text)
    }

    /// The binary header writes placeholders' digits straight into the frame, byte for byte as their text.
    @Test func binaryEncodedLikeTheirText() throws {
        for words in [(UInt64.max, UInt64(0), UInt64(bitPattern: Int64.min), UInt64(0)), (0x0A00_0005_0000_2A9F, 1, 7, 123_456)] {
            let f = RemotingExtFields(Self.template, words: words.0, words.1, words.2, words.3)
            var text = RemotingExtFields()
            for (key, value) in f { text[key] = value }
            var response = RemotingCommand(code: 0, opaque: 9, flag: .response, extFields: f, serializeType: .rocketmq)
            let bytes = try encode(response)
            response.extFields = text
            #expect(bytes == (try encode(response)))
            #expect(try decodeOne(Array(bytes.readableBytesView))?.extFields == text)
        }
    }

    /// The JSON header copies a template's pre-rendered runs: byte for byte the field list's encoding, escapes
    /// (quote, backslash, control bytes) and non-ASCII included, for every value of the words.
    @Test func jsonPreRenderedLikeTheFieldList() throws {
        let template = RemotingExtFields.Template([
            "q\"uote": .text("a\\b\u{01}c\u{02}"), "id": .hex128(slot: 1), "é": .text("ünï"), "n": .decimal(slot: 0),
            "tab\t": .decimal(slot: 3), "last": .text(""),
        ])
        for words in [(UInt64(0), UInt64(0), UInt64(0), UInt64(0)), (UInt64(bitPattern: -1), 0xDEAD_BEEF, .max, 9),
                      (UInt64(bitPattern: Int64.min), 1, 2, UInt64(bitPattern: Int64.max))] {
            let f = RemotingExtFields(template, words: words.0, words.1, words.2, words.3)
            var text = RemotingExtFields()
            for (key, value) in f { text[key] = value }
            var response = RemotingCommand(code: 0, opaque: 9, flag: .response, remark: "r", extFields: f)
            let bytes = try encode(response)
            response.extFields = text
            #expect(bytes == (try encode(response)))
            #expect(try decodeOne(Array(bytes.readableBytesView))?.extFields == text)
        }
    }

    /// A field set or removed after the template was filled in is encoded: the pre-rendered form no longer
    /// describes the table and is not used.
    @Test func editedTemplateEncodesItsEdits() throws {
        for edit in [{ (f: inout RemotingExtFields) in f["extra"] = "y" }, { $0["n"] = "x" }, { $0["c"] = nil }] {
            var f = RemotingExtFields(Self.template, words: 1, 2, 3, 4)
            edit(&f)
            var text = RemotingExtFields()
            for (key, value) in f { text[key] = value }
            var response = RemotingCommand(code: 0, opaque: 9, flag: .response, extFields: f)
            let bytes = try encode(response)
            response.extFields = text
            #expect(bytes == (try encode(response)))
            #expect(try decodeOne(Array(bytes.readableBytesView))?.extFields == text)
        }
    }

    @Test func editedTemplateFieldsKeepTheOthers() {
        var f = RemotingExtFields(Self.template, words: 1, 2, 3, 4)
        f["n"] = "x"
        f["extra"] = "y"
        #expect(f["n"] == "x" && f["m"] == "4" && f["extra"] == "y")
        let g = RemotingExtFields(Self.template, words: 1, 2, 5, 6)
        #expect(g["n"] == "5" && g["m"] == "6")
    }

    /// A hex value between fixed texts (a request's properties ending in its UNIQ_KEY) reads as the texts around
    /// the digits, and encodes byte for byte as that text does, in both header types: the JSON form's escapes
    /// of the texts' control bytes, quotes, backslashes and non-ASCII bytes included.
    @Test func framedHexLikeItsText() throws {
        let template = RemotingExtFields.Template([
            "b": .text("T"), "e": .decimal(slot: 0),
            "i": .framedHex128(prefix: "WAIT\u{1}true\u{2}q\"\\é\tUNIQ_KEY\u{1}", slot: 2, suffix: "\u{2}"),
            "j": .text("0"), "empty": .framedHex128(prefix: "", slot: 1, suffix: ""),
        ])
        for words in [(UInt64(0), UInt64(0), UInt64(0), UInt64(0)), (3, 1_733_000_000_000, 0x1234_ABCD_0000_FFFF, .max)] {
            let f = RemotingExtFields(template, words: words.0, words.1, words.2, words.3)
            #expect(f["i"] == "WAIT\u{1}true\u{2}q\"\\é\tUNIQ_KEY\u{1}"
                        + RemotingExtFields.hex128(words.2, words.3) + "\u{2}")
            #expect(f["empty"] == RemotingExtFields.hex128(words.1, words.2))
            var text = RemotingExtFields()
            for (key, value) in f { text[key] = value }
            for type in [RemotingSerializeType.json, .rocketmq] {
                var request = RemotingCommand(code: 310, opaque: 7, extFields: f, serializeType: type)
                let bytes = try encode(request)
                request.extFields = text
                #expect(bytes == (try encode(request)))
                #expect(try decodeOne(Array(bytes.readableBytesView))?.extFields == text)
            }
        }
        #expect(RemotingExtFields.hex128(0x0123_4567_89AB_CDEF, 10) == "0123456789ABCDEF000000000000000A")
    }
}
