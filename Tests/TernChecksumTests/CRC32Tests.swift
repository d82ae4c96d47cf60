import TernTestSupport
import Testing
@testable import TernChecksum

/// `CRC32` gives zlib's values through either engine: the native library the process loaded, and the tables it
/// falls back to without one (built here with `native: nil`, as `CRC32.engine` is when no library loads).
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

    static let tables = CRC32.Engine(native: nil)
    static let engines = [tables, CRC32.engine]

    static func checksum(_ engine: CRC32.Engine, _ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { engine.checksum($0, seed: seed) }
    }

    @Test func vectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("a".utf8)) == 0xE8B7_BE43)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.rocketmqBodyCRC(Array("Hello".utf8)) == 0x77D1_8982)
        [UInt8](repeating: 0, count: 32).withUnsafeBytes { #expect(CRC32.checksum($0) == 0x190A_55AD) }
        for engine in Self.engines {
            #expect(Self.checksum(engine, Array("123456789".utf8)) == 0xCBF4_3926, "\(engine.name)")
            #expect(Self.checksum(engine, []) == 0, "\(engine.name)")
            #expect(Self.checksum(engine, [], seed: 0x1234) == 0x1234, "\(engine.name)")
            #expect(Self.checksum(engine, Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        }
    }

    @Test func theTablesAreTheFallbackWhenNoLibraryLoads() {
        #expect(Self.tables.name == "tables")
        #expect(CRC32.Engine(native: NativeCRC32.load(preferring: ["libtern-no-such-library.so.9"])).name == "tables")
        // On these machines zlib at least is present: the process's engine is native.
        #expect(CRC32.implementation != "tables")
        #expect(CRC32.implementation == CRC32.engine.name)
    }

    @Test(arguments: engines.indices)
    func matchesBitwiseReferenceAtEveryLengthAndAlignment(_ which: Int) {
        let engine = Self.engines[which]
        var rng = SplitMix64(seed: 0xC3C3)
        let data = rng.bytes(600)
        data.withUnsafeBytes { raw in
            for start in 0 ..< 9 {
                for length in 0 ... 200 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start ..< start + length])
                    #expect(engine.checksum(slice, seed: 0) == Self.reference(Array(slice)), "\(engine.name) \(start)+\(length)")
                }
            }
        }
    }

    /// Random record-sized bodies: the process's CRC (native here) equals the tables' and the reference.
    @Test func randomBodiesAgreeAcrossEngines() {
        var rng = SplitMix64(seed: 0xB0D1)
        for _ in 0 ..< 200 {
            let body = rng.bytes(Int.random(in: 0 ... 9_000, using: &rng))
            let expected = Self.reference(body)
            #expect(CRC32.checksum(body) == expected)
            #expect(Self.checksum(Self.tables, body) == expected)
            #expect(CRC32.rocketmqBodyCRC(body) == expected & 0x7FFF_FFFF)
        }
    }

    @Test func seedChains() {
        var rng = SplitMix64(seed: 9)
        let data = rng.bytes(1000)
        for engine in Self.engines {
            for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
                data.withUnsafeBytes { raw in
                    let first = engine.checksum(UnsafeRawBufferPointer(rebasing: raw[..<split]), seed: 0)
                    #expect(engine.checksum(UnsafeRawBufferPointer(rebasing: raw[split...]), seed: first) == CRC32.checksum(data))
                }
            }
        }
    }
}
