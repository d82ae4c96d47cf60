// CRC32 (reflected polynomial 0xEDB88320, zlib conventions), slicing-by-8: the fallback behind `CRC32` when no
// native library loaded (~700 ns per KiB), and the reference the native one is checked against in tests.

enum CRC32Tables {
    /// 8 tables of 256 entries, flattened: table k lives at [k*256 ..< (k+1)*256].
    /// table 0 is the classic byte table; table k[i] = (table k-1[i] >> 8) ^ table0[table k-1[i] & 0xFF].
    static let slicing8: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0 ..< 256 {
            var c = UInt32(i)
            for _ in 0 ..< 8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            t[i] = c
        }
        for k in 1 ..< 8 {
            for i in 0 ..< 256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    /// zlib `crc32(seed, bytes)`: pre- and post-inverted, so checksum(a ++ b) == update(seed: checksum(a), b).
    static func update(_ seed: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        return slicing8.withUnsafeBufferPointer { tables in
            let t = tables.baseAddress!
            var crc = ~seed
            var p = base
            var n = bytes.count
            while n >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let lo = UInt32(truncatingIfNeeded: word) ^ crc
                let hi = UInt32(truncatingIfNeeded: word >> 32)
                crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                p += 8
                n -= 8
            }
            while n > 0 {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)]
                p += 1
                n -= 1
            }
            return ~crc
        }
    }
}
