import Testing
import TernTestSupport
@testable import TernChecksum

/// Every library `NativeCRC32` may load computes exactly the tables' CRC-32, at every length and alignment,
/// chained or not; a library that cannot serve is never used.
@Suite struct NativeCRC32Tests {
    static let libraries = ["libdeflate.so.0", "libz.so.1"]

    @Test(arguments: libraries)
    func matchesTheSwiftTablesAtEveryLengthAndAlignment(_ library: String) throws {
        // zlib is on every Linux this runs on; libdeflate only where a package pulled it in.
        guard let native = NativeCRC32.load(preferring: [library]) else {
            #expect(library != "libz.so.1", "zlib's crc32_z did not load")
            return
        }
        #expect(native.library == library)
        var rng = SplitMix64(seed: 0x5EED)
        let data = rng.bytes(5_000)
        data.withUnsafeBytes { raw in
            for start in 0 ..< 9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 256, 1_000, 1_024, 4_096] {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start ..< start + length])
                    #expect(native.checksum(slice) == CRC32Tables.update(0, slice), "\(library) at \(start)+\(length)")
                    let cut = length / 3
                    let chained = native.checksum(UnsafeRawBufferPointer(rebasing: slice[cut...]),
                                                  seed: native.checksum(UnsafeRawBufferPointer(rebasing: slice[..<cut])))
                    #expect(chained == CRC32Tables.update(0, slice), "\(library) chained at \(start)+\(length)")
                }
            }
            #expect(native.checksum(UnsafeRawBufferPointer(start: nil, count: 0), seed: 0x1234) == 0x1234)
        }
    }

    @Test func aLibraryWithoutTheFunctionOrMissingIsNotUsed() {
        #expect(NativeCRC32.load(preferring: ["libtern-no-such-library.so.9"]) == nil)
        #expect(NativeCRC32.load(preferring: ["libc.so.6"]) == nil)  // loads, but exports neither function
        #expect(NativeCRC32.load(preferring: ["libc.so.6", "libz.so.1"])?.library == "libz.so.1")
    }

    @Test func theSharedOneIsLoaded() {
        #expect(NativeCRC32.shared != nil)
    }
}
