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

    /// Writes the 20 bytes `text` (UTF-8) encodes into `digest` (at least 20 bytes); false when `text` is not
    /// the canonical Base64 of 20 bytes.
    static func decode(_ text: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(digest.count >= digestByteCount)
        guard text.count == textByteCount, text[textByteCount - 1] == UInt8(ascii: "=") else { return false }
        var out = 0, bits: UInt32 = 0, pending = 0
        for i in 0..<(textByteCount - 1) {
            guard let value = sextet(text[i]) else { return false }
            bits = bits << 6 | UInt32(value)
            pending += 6
            if pending >= 8 {
                pending -= 8
                digest[out] = UInt8(truncatingIfNeeded: bits >> UInt32(pending))
                out += 1
            }
        }
        // 27 characters carry 162 bits: the last two are padding and must be zero in the canonical spelling.
        return out == digestByteCount && bits & ((1 << UInt32(pending)) - 1) == 0
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
