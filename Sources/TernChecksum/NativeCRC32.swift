import Glibc

/// CRC-32 (IEEE 802.3, zlib's: pre- and post-inverted, polynomial 0xEDB88320) computed by a native library
/// loaded at run time: libdeflate's `libdeflate_crc32` (PCLMULQDQ folding on x86-64, ~75 ns per KiB measured
/// here) when `libdeflate.so.0` is on the machine, else zlib's `crc32_z` (`libz.so.1`, ~350 ns per KiB), else
/// none (`CRC32` then computes with its tables, ~700 ns per KiB).
///
/// Invariants:
/// - A library is used only after it reproduced the standard check values at load (CRC-32 of "123456789" is
///   0xCBF43926, and a chained update equals the whole), so a symbol of the same name that computes something
///   else is never used; the answer is then identical to the tables' for every input.
/// - The handle from `dlopen` is never closed, so the function pointer stays valid for the process's life.
struct NativeCRC32: Sendable {
    /// Which library computes it (reports, tests).
    let library: String
    private let compute: Implementation

    private enum Implementation: Sendable {
        /// `uint32_t libdeflate_crc32(uint32_t crc, const void *buffer, size_t len)`.
        case deflate(@convention(c) (UInt32, UnsafeRawPointer?, Int) -> UInt32)
        /// `uLong crc32_z(uLong crc, const Bytef *buf, z_size_t len)` (uLong is 64 bits on Linux x86-64 / arm64).
        case zlib(@convention(c) (UInt, UnsafeRawPointer?, Int) -> UInt)
    }

    /// The fastest library that loads and checks out, loaded once; nil when none does.
    static let shared: NativeCRC32? = load(preferring: ["libdeflate.so.0", "libz.so.1"])

    /// `crc32(seed, bytes)`: chaining `checksum(b, seed: checksum(a))` equals `checksum(a ++ b)`.
    @inline(__always)
    func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        // zlib answers 0 for a NULL buffer whatever the seed: an empty range leaves the CRC as it is.
        guard bytes.count > 0 else { return seed }
        return switch compute {
        case .deflate(let f): f(seed, bytes.baseAddress, bytes.count)
        case .zlib(let f): UInt32(truncatingIfNeeded: f(UInt(seed), bytes.baseAddress, bytes.count))
        }
    }

    /// The first of `libraries` (file names `dlopen` resolves) that loads, exports its CRC function and passes
    /// the check values.
    static func load(preferring libraries: [String]) -> NativeCRC32? {
        for name in libraries {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            let candidate: NativeCRC32?
            if name.hasPrefix("libdeflate"), let symbol = dlsym(handle, "libdeflate_crc32") {
                candidate = NativeCRC32(library: name, compute: .deflate(unsafeBitCast(
                    symbol, to: (@convention(c) (UInt32, UnsafeRawPointer?, Int) -> UInt32).self)))
            } else if name.hasPrefix("libz"), let symbol = dlsym(handle, "crc32_z") {
                candidate = NativeCRC32(library: name, compute: .zlib(unsafeBitCast(
                    symbol, to: (@convention(c) (UInt, UnsafeRawPointer?, Int) -> UInt).self)))
            } else {
                candidate = nil
            }
            if let candidate, candidate.passesCheckValues { return candidate }
            dlclose(handle)
        }
        return nil
    }

    private var passesCheckValues: Bool {
        let digits = Array("123456789".utf8)
        return digits.withUnsafeBytes { all in
            let whole = checksum(all)
            let chained = checksum(UnsafeRawBufferPointer(rebasing: all[4...]),
                                   seed: checksum(UnsafeRawBufferPointer(rebasing: all[..<4])))
            return whole == 0xCBF4_3926 && chained == whole && checksum(UnsafeRawBufferPointer(start: nil, count: 0)) == 0
        }
    }
}
