/// CRC-32 (IEEE 802.3, zlib's: pre- and post-inverted, polynomial 0xEDB88320): the one implementation every module
/// uses, for record bodies (RocketMQ's BODYCRC) and registration bodies alike. API CONTRACT.
///
/// Computed by a native library when one loads and passes its check values (`NativeCRC32`: libdeflate's PCLMUL
/// folding, ~75 ns per KiB, else zlib), else by slicing-by-8 tables (`CRC32Tables`, ~700 ns per KiB). Both give
/// the same value for every input, so the choice is invisible except in time.
///
/// Why a module of its own: TernMessage (the pure record codec) computes the body CRC of every appended record,
/// and the store checks it on every read; the native loader needs `dlopen`, which does not belong in a codec nor
/// the codec in TernSystem. This module holds only the checksum: the smallest one both can depend on.
public enum CRC32 {
    /// What computes it, chosen once per process: the native library's file name, or "tables".
    public static var implementation: String { engine.name }

    /// `crc32(seed, bytes)`: chaining `checksum(b, seed: checksum(a))` equals `checksum(a ++ b)`.
    @inline(__always)
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        engine.checksum(bytes, seed: seed)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }

    /// RocketMQ's BODYCRC: crc32(body) & 0x7FFFFFFF.
    public static func rocketmqBodyCRC(_ body: [UInt8]) -> UInt32 { checksum(body) & 0x7FFF_FFFF }
    public static func rocketmqBodyCRC(_ body: UnsafeRawBufferPointer) -> UInt32 { checksum(body) & 0x7FFF_FFFF }

    static let engine = Engine(native: NativeCRC32.shared)

    /// The native function when one loaded, else the tables.
    struct Engine: Sendable {
        let native: NativeCRC32?

        var name: String { native?.library ?? "tables" }

        @inline(__always)
        func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32) -> UInt32 {
            guard let native else { return CRC32Tables.update(seed, bytes) }
            return native.checksum(bytes, seed: seed)
        }
    }
}
