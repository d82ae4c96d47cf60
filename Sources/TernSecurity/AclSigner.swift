import Crypto
import Foundation
import NIOCore
import TernRemoting

/// RocketMQ's request signature (Java `AclUtils.combineRequestContent` + `AclSigner`, C++ `ClientRPCHook`):
///
///     Signature = Base64(HmacSHA1(secretKey, content))
///     content   = values of every extField except `Signature` and `_UNIQUE_KEY_QUERY`, in ascending key order
///                 (Java `String.compareTo`: UTF-16 code units), concatenated as UTF-8, then the raw body bytes
///
/// Clients add `AccessKey` (and C++ `OnsChannel`, Java optionally `SecurityToken`) before signing, so those are
/// part of the content. Numbers are signed as the decimal text the client sent.
///
/// Cost: one sort of the ~15 keys, one HMAC pass over the header values and the body (no copy of the body).
public enum AclSigner {
    /// The extField carrying the signature.
    public static let signatureKey = "Signature"
    public static let accessKeyKey = "AccessKey"
    public static let securityTokenKey = "SecurityToken"
    /// Excluded from the content as Java's `MixAll.UNIQUE_MSG_QUERY_FLAG`.
    static let uniqueKeyQueryFlag = "_UNIQUE_KEY_QUERY"

    /// Base64 of the HmacSHA1 of `extFields` (as described above) and `body` with `secretKey`.
    public static func signature(extFields: RemotingExtFields, body: ByteBuffer?, secretKey: String) -> String {
        Data(mac(extFields: extFields, body: body, secretKey: secretKey)).base64EncodedString()
    }

    /// Base64 of the HmacSHA1 of `content` with `secretKey` (test vectors, clients that built the content).
    public static func signature(content: [UInt8], secretKey: String) -> String {
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: content, using: SymmetricKey(data: Array(secretKey.utf8)))
        return Data(code).base64EncodedString()
    }

    /// True when `signature` is the one `secretKey` gives `extFields` and `body`. The comparison takes the same
    /// time wherever the first difference is, so a forger learns nothing from timing.
    public static func isValid(_ signature: String?, extFields: RemotingExtFields, body: ByteBuffer?,
                               secretKey: String) -> Bool {
        guard let signature else { return false }
        let expected = Data(mac(extFields: extFields, body: body, secretKey: secretKey)).base64EncodedString()
        return constantTimeEquals(Array(expected.utf8), Array(signature.utf8))
    }

    /// Byte-wise equality whose time depends only on the lengths.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<min(a.count, b.count) { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private static func mac(extFields: RemotingExtFields, body: ByteBuffer?, secretKey: String)
        -> HMAC<Insecure.SHA1>.MAC
    {
        var hmac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: Array(secretKey.utf8)))
        hmac.update(data: content(extFields))
        body?.withUnsafeReadableBytes { hmac.update(data: $0) }
        return hmac.finalize()
    }

    /// The header part of the content: the signed values in key order.
    static func content(_ extFields: RemotingExtFields) -> [UInt8] {
        var fields = extFields.filter { $0.key != signatureKey && $0.key != uniqueKeyQueryFlag }
        fields.sort { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.value.utf8.count })
        for field in fields { bytes.append(contentsOf: field.value.utf8) }
        return bytes
    }

    /// `extFields` with `AccessKey` set and `Signature` computed over them and `body` (what a client's RPC
    /// hook does before sending).
    public static func sign(_ extFields: inout RemotingExtFields, body: ByteBuffer?, accessKey: String,
                            secretKey: String) {
        extFields[signatureKey] = nil
        extFields[accessKeyKey] = accessKey
        extFields[signatureKey] = signature(extFields: extFields, body: body, secretKey: secretKey)
    }
}
