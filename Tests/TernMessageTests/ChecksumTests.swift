import TernTestSupport
import Testing
import TernMessage

@Suite struct CRC32Tests {
    /// Bit-at-a-time reference (zlib conventions).
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test func vectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("a".utf8)) == 0xE8B7_BE43)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.rocketmqBodyCRC(Array("Hello".utf8)) == 0x77D1_8982)
        [UInt8](repeating: 0, count: 32).withUnsafeBytes { #expect(CRC32.checksum($0) == 0x190A_55AD) }
    }

    @Test func matchesBitwiseReferenceAtEveryLengthAndAlignment() {
        var rng = SplitMix64(seed: 0xC3C3)
        let data = rng.bytes(600)
        for start in 0 ..< 9 {
            for length in 0 ... 200 {
                let slice = Array(data[start ..< start + length])
                data.withUnsafeBytes { raw in
                    #expect(CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[start ..< start + length])) == Self.reference(slice))
                }
            }
        }
    }

    @Test func seedChains() {
        var rng = SplitMix64(seed: 9)
        let data = rng.bytes(1000)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            data.withUnsafeBytes { raw in
                let first = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[..<split]))
                #expect(CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[split...]), seed: first) == CRC32.checksum(data))
            }
        }
    }
}

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
