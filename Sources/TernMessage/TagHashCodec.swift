// Java String.hashCode over UTF-16 units (message-format.md §7).

enum JavaStringHash {
    @inline(__always)
    static func mix(_ h: Int32, _ unit: UInt16) -> Int32 { 31 &* h &+ Int32(unit) }

    static func hash(_ s: String) -> Int32 {
        var h: Int32 = 0
        for unit in s.utf16 { h = mix(h, unit) }
        return h
    }

    /// Decodes well-formed UTF-8 by hand (ASCII fast path, surrogate pairs for 4-byte sequences). At the first
    /// ill-formed sequence the rest goes through the standard library's repairing transcoder, so the result is
    /// the same as hashing `String(decoding: bytes, as: UTF8.self)`.
    static func hash(utf8 b: UnsafeRawBufferPointer) -> Int32 {
        var h: Int32 = 0
        var i = 0
        let n = b.count
        while i < n {
            let b0 = b[i]
            if b0 < 0x80 {
                h = mix(h, UInt16(b0))
                i += 1
                continue
            }
            if b0 >= 0xC2 && b0 <= 0xDF, i + 1 < n, isContinuation(b[i + 1]) {
                h = mix(h, UInt16(b0 & 0x1F) << 6 | UInt16(b[i + 1] & 0x3F))
                i += 2
                continue
            }
            if b0 >= 0xE0 && b0 <= 0xEF, i + 2 < n {
                let b1 = b[i + 1], b2 = b[i + 2]
                let lower: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80  // no overlongs
                let upper: UInt8 = b0 == 0xED ? 0x9F : 0xBF  // no surrogates
                if b1 >= lower && b1 <= upper && isContinuation(b2) {
                    h = mix(h, UInt16(b0 & 0x0F) << 12 | UInt16(b1 & 0x3F) << 6 | UInt16(b2 & 0x3F))
                    i += 3
                    continue
                }
            }
            if b0 >= 0xF0 && b0 <= 0xF4, i + 3 < n {
                let b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3]
                let lower: UInt8 = b0 == 0xF0 ? 0x90 : 0x80  // no overlongs
                let upper: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF  // <= U+10FFFF
                if b1 >= lower && b1 <= upper && isContinuation(b2) && isContinuation(b3) {
                    let scalar = UInt32(b0 & 0x07) << 18 | UInt32(b1 & 0x3F) << 12
                        | UInt32(b2 & 0x3F) << 6 | UInt32(b3 & 0x3F)
                    let v = scalar - 0x1_0000
                    h = mix(h, 0xD800 | UInt16(truncatingIfNeeded: v >> 10))
                    h = mix(h, 0xDC00 | UInt16(truncatingIfNeeded: v & 0x3FF))
                    i += 4
                    continue
                }
            }
            // Ill-formed (or truncated) sequence at a sequence boundary: repair the rest like String does.
            let rest = b.slice(i, n - i)
            _ = transcode(rest.makeIterator(), from: UTF8.self, to: UTF16.self, stoppingOnError: false) { unit in
                h = mix(h, unit)
            }
            return h
        }
        return h
    }

    @inline(__always)
    private static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
}
