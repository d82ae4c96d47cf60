import TernTestSupport
import Testing
import TernMessage

@Suite struct PropertiesTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func pairs(_ decoded: [(String, String)]) -> [String] { decoded.map { "\($0.0)=\($0.1)" } }
    static func value(_ name: StaticString, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { raw in
            MessageProperties.value(of: name, in: raw).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test func encodeTerminatesEveryEntry() {
        #expect(MessageProperties.encode([]) == [])
        #expect(MessageProperties.encode([("KEYS", "k1 k2"), ("TAGS", "日本")]) ==
                Self.bytes("KEYS\u{1}k1 k2\u{2}TAGS\u{1}日本\u{2}"))
    }

    @Test func decodeRoundTripsAndAcceptsMissingTrailingSeparator() {
        let entries = [("KEYS", "k1 k2"), ("TAGS", "TagA"), ("UNIQ_KEY", "ABC"), ("X", "日本")]
        let encoded = MessageProperties.encode(entries)
        #expect(Self.pairs(MessageProperties.decode(encoded)) == Self.pairs(entries))
        #expect(Self.pairs(MessageProperties.decode(Array(encoded.dropLast()))) == Self.pairs(entries))
        #expect(MessageProperties.decode([]).isEmpty)
    }

    @Test func decodeSkipsJunkFragments() {
        // "", "" , "ab" (< 3 bytes), "noSep" (no 0x01), "x\u{1}" (< 3 bytes) are skipped.
        let junk = Self.bytes("\u{2}\u{2}ab\u{2}KEYS\u{1}v\u{2}noSep\u{2}x\u{1}\u{2}a\u{1}b\u{1}c\u{2}\u{1}zz\u{2}T\u{1}")
        #expect(Self.pairs(MessageProperties.decode(junk)) == ["KEYS=v", "a=b\u{1}c", "=zz"])
        #expect(MessageProperties.decode(Self.bytes("\u{1}\u{2}\u{1}")).isEmpty)
    }

    @Test func valueOfScansWithoutDecoding() {
        let encoded = MessageProperties.encode([("KEYSX", "no"), ("KEYS", "k1 k2"), ("TAGS", ""), ("WAIT", "true")])
        #expect(Self.value("KEYS", encoded) == "k1 k2")
        #expect(Self.value("KEYSX", encoded) == "no")
        #expect(Self.value("WAIT", encoded) == "true")
        #expect(Self.value("TAGS", encoded) == "")
        #expect(Self.value("KEY", encoded) == nil)
        #expect(Self.value("DELAY", encoded) == nil)
        #expect(Self.value("TAGS", []) == nil)
        // Without the trailing separator, and the last of duplicates wins (like Java's map).
        #expect(Self.value("WAIT", Array(encoded.dropLast())) == "true")
        #expect(Self.value("TAGS", Self.bytes("TAGS\u{1}a\u{2}TAGS\u{1}b")) == "b")
        // Names never match across a fragment boundary or inside a value.
        #expect(Self.value("TAGS", Self.bytes("X\u{1}TAGS\u{1}v\u{2}")) == nil)
    }

    @Test func randomBytesNeverCrashDecode() {
        var rng = SplitMix64(seed: 0x9409)
        for _ in 0 ..< 2000 {
            let bytes = (0 ..< Int.random(in: 0 ... 40, using: &rng)).map { _ in UInt8.random(in: 0 ... 4, using: &rng) + 0x00 }
            let decoded = MessageProperties.decode(bytes)
            for (name, value) in decoded { #expect(name.utf8.count + value.utf8.count >= 2) }
            _ = Self.value("KEYS", bytes)
        }
    }
}
