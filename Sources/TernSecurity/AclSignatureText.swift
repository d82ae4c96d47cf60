/// The `Signature` field's text: standard Base64 (with `=` padding) of the 20-byte HmacSHA1, 28 characters, as
/// Java's `Base64.encodeBase64` and the C++ client write it.
///
/// ``decode(_:into:)`` accepts exactly the canonical spelling (the two bits past the 160th zero, one `=`), so
/// comparing decoded bytes accepts the same signatures as Java's string comparison.
enum AclSignatureText {
    static let digestByteCount = 20
    static let textByteCount = 28

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Base64 of `bytes` (any length; padded).
    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        var text: [UInt8] = []
        text.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            let group = UInt32(b0) << 16 | UInt32(b1) << 8 | UInt32(b2)
            text.append(alphabet[Int(group >> 18 & 63)])
            text.append(alphabet[Int(group >> 12 & 63)])
            text.append(i + 1 < bytes.count ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            text.append(i + 2 < bytes.count ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Each byte's 6-bit value in the alphabet; 0xFF for bytes outside it.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// Writes the 20 bytes `text` (UTF-8) encodes into `digest` (at least 20 bytes); false when `text` is not
    /// the canonical Base64 of 20 bytes. By table, four characters at a time, without a branch per character
    /// (an invalid byte's 0xFF sets bits no sextet has; `digest` then holds junk and the answer is false).
    static func decode(_ text: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(digest.count >= digestByteCount)
        guard text.count == textByteCount, text[textByteCount - 1] == UInt8(ascii: "=") else { return false }
        return sextets.withUnsafeBufferPointer { table in
            var invalid: UInt8 = 0
            func value(_ i: Int) -> UInt32 {
                let v = table[Int(text[i])]
                invalid |= v
                return UInt32(v)
            }
            // 24 characters: 18 bytes.
            for group in 0..<6 {
                let i = group * 4, o = group * 3
                let bits = value(i) << 18 | value(i + 1) << 12 | value(i + 2) << 6 | value(i + 3)
                digest[o] = UInt8(truncatingIfNeeded: bits >> 16)
                digest[o + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                digest[o + 2] = UInt8(truncatingIfNeeded: bits)
            }
            // 3 characters, 18 bits: the last 2 bytes, then 2 bits that are zero in the canonical spelling.
            let bits = value(24) << 12 | value(25) << 6 | value(26)
            digest[18] = UInt8(truncatingIfNeeded: bits >> 10)
            digest[19] = UInt8(truncatingIfNeeded: bits >> 2)
            return invalid & 0xC0 == 0 && bits & 3 == 0
        }
    }
}
