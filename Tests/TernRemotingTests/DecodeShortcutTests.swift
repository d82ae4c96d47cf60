import NIOCore
@testable import TernRemoting
import Testing

/// The decoders' shortcuts (top-level keys matched as words, new extFields keys appended without the duplicate
/// scan, `locate` trying the next key first) give exactly what the general paths give, whatever the keys.
@Suite("decode shortcuts")
struct DecodeShortcutTests {
    /// Keys one byte off the known ones (same length, other case, one longer or shorter) are skipped as unknown;
    /// a known key spelled with an escape is still known.
    @Test func nearMissTopLevelKeysAreSkipped() throws {
        let json = #"{"codf":1,"Code":2,"cod":3,"codes":4,"flaG":5,"opaquf":6,"remarK":"r","versioN":7,"#
            + #""languagf":"CPP","extFieldz":{"x":"1"},"extField":{"y":"2"},"extFieldss":{"z":"3"},"#
            + #""\u0063ode":310,"flag":1,"opaque":42,"remark":"ok","version":399,"language":"JAVA","#
            + #""extFields":{"a":"b"}}"#
        let command = try #require(try decodeOne(FrameBuilder.jsonFrame(json)))
        #expect(command.code == 310)
        #expect(command.flag.rawValue == 1)
        #expect(command.opaque == 42)
        #expect(command.remark == "ok")
        #expect(command.version == 399)
        #expect(command.language == .java)
        #expect(command.extFields == ["a": "b"])
        for name in ["code", "flag", "opaque", "remark", "version", "language", "extFields"] {
            #expect(Array(name.utf8).withUnsafeBytes { JSONReader.HeaderKey($0) } != .other, "\(name)")
        }
        for name in ["", "cod", "codE", "code ", "flagg", "opaqu", "Remark", "versio", "languages", "extFieldS", "xtFields"] {
            #expect(Array(name.utf8).withUnsafeBytes { JSONReader.HeaderKey($0) } == .other, "\(name)")
        }
    }

    /// Many keys (more than the 64 bits that rule out duplicates), repeated at random places: the decoded table
    /// equals one built by assigning the same pairs in order (first place kept, last value wins), for JSON and
    /// binary headers.
    @Test func duplicatesAmongManyKeysReplaceInPlace() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0 ..< 20 {
            let names = (0 ..< 90).map { "k\($0 % 45)x\(round % 3)" } + ["a", "b", "K", "\u{212A}", "café", "a"]
            var pairs: [(String, String)] = []
            for i in 0 ..< 100 {
                pairs.append((names.randomElement(using: &rng)!, "v\(i)"))
            }
            var expected = RemotingExtFields()
            for (key, value) in pairs { expected[key] = value }
            let members = pairs.map { key, value in "\(jsonString(key)):\(jsonString(value))" }.joined(separator: ",")
            let json = try #require(try decodeOne(FrameBuilder.jsonFrame(#"{"code":10,"extFields":{"# + members + "}}")))
            #expect(json.extFields.keys == expected.keys)
            #expect(json.extFields == expected)
            let binary = try #require(try decodeOne(SendHeaderDecodeTests.javaV2Binary(pairs.map { ($0.0, Array($0.1.utf8)) })))
            #expect(binary.extFields.keys == expected.keys)
            #expect(binary.extFields == expected)
        }
    }

    /// `locate` finds each key where a scan of the keys finds it, in any order, with keys missing or extra.
    @Test func locateFindsKeysInAnyOrder() throws {
        let setKeys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]
        let set = RemotingExtFields.KeySet(setKeys)
        var rng = SystemRandomNumberGenerator()
        for round in 0 ..< 200 {
            var keys = (setKeys + ["n", "zz", "topic"]).filter { _ in Bool.random(using: &rng) }
            keys.shuffle(using: &rng)
            if round % 4 == 0 { keys.sort() }
            let members = keys.map { #""\#($0)":"\#($0)v""# }.joined(separator: ",")
            let fields = try #require(try decodeOne(FrameBuilder.jsonFrame(#"{"code":310,"extFields":{"# + members + "}}")))
                .extFields
            let at = fields.locate(set)
            for (k, key) in setKeys.enumerated() {
                #expect(at[k] == fields.keys.firstIndex(of: key), "\(keys) \(key)")
            }
        }
    }

    /// `text` as a JSON string, non-ASCII as `\uXXXX` escapes (all BMP here).
    private func jsonString(_ text: String) -> String {
        let escaped = text.unicodeScalars.map { scalar -> String in
            guard !scalar.isASCII else { return String(scalar) }
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        return "\"" + escaped.joined() + "\""
    }
}
