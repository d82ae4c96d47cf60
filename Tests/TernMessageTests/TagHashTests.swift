import TernTestSupport
import Testing
import TernMessage

@Suite struct TagHashTests {
    /// h = 31*h + unit over UTF-16 code units, 32-bit wrap-around: Java's String.hashCode.
    static func reference(_ units: [UInt16]) -> Int32 {
        var h: Int64 = 0
        for u in units { h = (31 * h + Int64(u)) & 0xFFFF_FFFF }
        return Int32(truncatingIfNeeded: h)
    }

    static func utf8Hash(_ bytes: [UInt8]) -> Int32 { bytes.withUnsafeBytes { TagHash.javaHashCode(utf8: $0) } }

    @Test func vectors() {
        #expect(TagHash.javaHashCode("TagA") == 2_598_919)
        #expect(TagHash.javaHashCode("") == 0)
        #expect(TagHash.javaHashCode("hello") == 99_162_322)
        #expect(TagHash.javaHashCode("polygenelubricants") == Int32.min)  // wraps exactly to MIN_VALUE
        #expect(TagHash.tagCode(nil) == 0)
        #expect(TagHash.tagCode("TagA") == 2_598_919)
        #expect(TagHash.tagCode("polygenelubricants") == Int64(Int32.min))  // sign-extended
    }

    @Test func nonASCII() {
        // "日本" = U+65E5 U+672C: 31 * 0x65E5 + 0x672C.
        #expect(Self.reference([0x65E5, 0x672C]) == 835_047)
        #expect(TagHash.javaHashCode("日本") == 835_047)
        // "😀" = U+1F600 = surrogates D83D DE00: 31 * 0xD83D + 0xDE00.
        #expect(Self.reference([0xD83D, 0xDE00]) == 1_772_899)
        #expect(TagHash.javaHashCode("😀") == 1_772_899)
        #expect(TagHash.javaHashCode("Tag-日本-😀x") == -7_263_166)
        for s in ["TagA", "", "日本", "😀", "Tag-日本-😀x", "é", "\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}"] {
            #expect(Self.utf8Hash(Array(s.utf8)) == TagHash.javaHashCode(s), "\(s)")
            #expect(TagHash.javaHashCode(s) == Self.reference(Array(s.utf16)), "\(s)")
        }
    }

    /// Random bytes (often ill-formed UTF-8): the fast path must agree with hashing the repaired String.
    @Test func utf8FastPathMatchesStringOnArbitraryBytes() {
        var rng = SplitMix64(seed: 0x7A6)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xEF,
                                    0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF]
        for _ in 0 ..< 3000 {
            let count = Int.random(in: 0 ... 12, using: &rng)
            let bytes = (0 ..< count).map { _ in
                Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0 ... 255, using: &rng)
            }
            #expect(Self.utf8Hash(bytes) == TagHash.javaHashCode(String(decoding: bytes, as: UTF8.self)), "\(bytes)")
        }
    }
}
