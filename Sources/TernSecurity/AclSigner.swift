import Crypto
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
/// Cost of a check (``isSignatureValid(_:body:key:)``): the header values are fed to the account's precomputed
/// HMAC states in key order without building a string or a sorted copy of the fields (``AclSignedContent``), the
/// body straight from its buffer; the client's Base64 is read in place and decoded once into 20 bytes on the
/// stack, then compared with the MAC in constant time. No allocation (``AclSigningKey``).
/// A signature that is not 28 canonical Base64 characters is refused without hashing (a flood of junk
/// signatures costs no HMAC).
public enum AclSigner {
    /// The extField carrying the signature.
    public static let signatureKey = "Signature"
    public static let accessKeyKey = "AccessKey"
    public static let securityTokenKey = "SecurityToken"
    /// Excluded from the content as Java's `MixAll.UNIQUE_MSG_QUERY_FLAG`.
    static let uniqueKeyQueryFlag = "_UNIQUE_KEY_QUERY"

    /// Base64 of the HmacSHA1 of `extFields` (as described above) and `body` with `secretKey`.
    public static func signature(extFields: RemotingExtFields, body: ByteBuffer?, secretKey: String) -> String {
        signature(extFields: extFields, body: body, key: AclSigningKey(secretKey))
    }

    static func signature(extFields: RemotingExtFields, body: ByteBuffer?, key: AclSigningKey) -> String {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: extFields.count) { scratch in
            let found = AclSignedContent.order(extFields, orders: .shared, scratch: scratch)
            if let fingerprint = found.sortedFingerprint {
                AclKeyOrders.shared.remember(found.order, for: extFields, fingerprint: fingerprint)
            }
            return withMAC(extFields: extFields, order: found.order, body: body, key: key, AclSignatureText.encode)
        }
    }

    /// Base64 of the HmacSHA1 of `content` with `secretKey` (test vectors, clients that built the content).
    public static func signature(content: [UInt8], secretKey: String) -> String {
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: content, using: SymmetricKey(data: Array(secretKey.utf8)))
        return code.withUnsafeBytes(AclSignatureText.encode)
    }

    /// True when `signature` is the one `key` gives `extFields` and `body`, spelled exactly as the client library
    /// spells it (Java compares the strings). The comparison of the MAC takes the same time wherever the first
    /// difference is, so a forger learns nothing from timing.
    public static func isValid(_ signature: String?, extFields: RemotingExtFields, body: ByteBuffer?,
                               key: AclSigningKey) -> Bool {
        guard var signature else { return false }
        return signature.withUTF8 { isValid(UnsafeRawBufferPointer($0), extFields: extFields, body: body, key: key) }
    }

    /// ``isValid(_:extFields:body:key:)`` with the signature the request carries in its `Signature` field, read
    /// in place (no String). `orders`: where key orders are found, and remembered once a signature is valid.
    public static func isSignatureValid(_ extFields: RemotingExtFields, body: ByteBuffer?, key: AclSigningKey) -> Bool {
        isSignatureValid(extFields, body: body, key: key, orders: .shared)
    }

    static func isSignatureValid(_ extFields: RemotingExtFields, body: ByteBuffer?, key: AclSigningKey,
                                 orders: AclKeyOrders?) -> Bool {
        isSignatureValid(extFields, signatureAt: extFields.index(of: signatureKey), body: body, key: key, orders: orders)
    }

    /// ``isSignatureValid(_:body:key:)`` with the `Signature` field's position already known (nil: absent).
    static func isSignatureValid(_ extFields: borrowing RemotingExtFields, signatureAt index: Int?, body: ByteBuffer?,
                                 key: AclSigningKey, orders: AclKeyOrders? = .shared) -> Bool {
        guard let index else { return false }
        return withUnsafeTemporaryAllocation(byteCount: AclSignatureText.textByteCount, alignment: 1) { text in
            var count = 0
            extFields.forEachUTF8Run(ofValueAt: index) { run in
                if count + run.count <= text.count {
                    UnsafeMutableRawBufferPointer(rebasing: text[count...]).copyMemory(from: run)
                }
                count += run.count
            }
            guard count == text.count else { return false }
            return isValid(UnsafeRawBufferPointer(text), extFields: extFields, body: body, key: key, orders: orders)
        }
    }

    private static func isValid(_ signature: UnsafeRawBufferPointer, extFields: borrowing RemotingExtFields, body: ByteBuffer?,
                                key: AclSigningKey, orders: AclKeyOrders? = .shared) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: AclSignatureText.digestByteCount, alignment: 1) { claimed in
            guard AclSignatureText.decode(signature, into: claimed) else { return false }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: extFields.count) { scratch in
                let found = AclSignedContent.order(extFields, orders: orders, scratch: scratch)
                let valid = withMAC(extFields: extFields, order: found.order, body: body, key: key) {
                    constantTimeEquals($0, UnsafeRawBufferPointer(claimed))
                }
                if valid, let orders, let fingerprint = found.sortedFingerprint {
                    orders.remember(found.order, for: extFields, fingerprint: fingerprint)
                }
                return valid
            }
        }
    }

    /// Byte-wise equality whose time depends only on the lengths.
    static func constantTimeEquals<A: RandomAccessCollection<UInt8>, B: RandomAccessCollection<UInt8>>(_ a: A, _ b: B)
        -> Bool where A.Index == Int, B.Index == Int
    {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<min(a.count, b.count) { difference |= a[a.startIndex + i] ^ b[b.startIndex + i] }
        return difference == 0
    }

    /// The most header value bytes gathered on the stack before hashing: a 1 KiB block stays a plain stack
    /// allocation (larger ones ask the runtime first); a send's values are a few hundred bytes.
    static let gatheredByteCountMax = 1_024

    /// `use` with the 20-byte HmacSHA1 of `extFields`' values at `order` and `body`, on the stack.
    ///
    /// The values are gathered into one stack block first and hashed in one call (each call into SHA-1 checks
    /// the CPU's features again, and a closure per value run cost more than the copy); values that do not fit
    /// are fed run by run. SHA-1 takes its input in pieces of any size, so the MAC is the same either way. Only
    /// that fallback's closure captures `extFields`: a closure over it handed to the HMAC copied the fields.
    private static func withMAC<R>(extFields: borrowing RemotingExtFields, order: UnsafeBufferPointer<Int>, body: ByteBuffer?,
                                   key: AclSigningKey, _ use: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: gatheredByteCountMax, alignment: 16) { gathered in
            withUnsafeTemporaryAllocation(byteCount: AclSignatureText.digestByteCount, alignment: 1) { mac in
                if let count = extFields.copyUTF8(ofValuesAt: order, into: gathered) {
                    // Closures over pointers only (a captured ByteBuffer is a retain).
                    let values = UnsafeRawBufferPointer(rebasing: gathered[0..<count])
                    if let body {
                        body.withUnsafeReadableBytes { bodyBytes in
                            key.mac(into: mac) { update in
                                update(values)
                                update(bodyBytes)
                            }
                        }
                    } else {
                        key.mac(into: mac) { update in update(values) }
                    }
                } else {
                    key.mac(into: mac) { update in
                        extFields.forEachUTF8Run(ofValuesAt: order, update)
                        body?.withUnsafeReadableBytes(update)
                    }
                }
                return use(UnsafeRawBufferPointer(mac))
            }
        }
    }

    /// `extFields` with `AccessKey` set and `Signature` computed over them and `body` (what a client's RPC
    /// hook does before sending).
    public static func sign(_ extFields: inout RemotingExtFields, body: ByteBuffer?, accessKey: String,
                            secretKey: String) {
        sign(&extFields, body: body, accessKey: accessKey, key: AclSigningKey(secretKey))
    }

    static func sign(_ extFields: inout RemotingExtFields, body: ByteBuffer?, accessKey: String, key: AclSigningKey) {
        extFields[signatureKey] = nil
        extFields[accessKeyKey] = accessKey
        extFields[signatureKey] = signature(extFields: extFields, body: body, key: key)
    }
}
