import Crypto

/// A secret key with the HmacSHA1 states after its key blocks, computed once per account: a request copies those
/// states and hashes its content and the inner digest only.
///
/// HMAC (RFC 2104) over swift-crypto's `Insecure.SHA1`: `SHA1((K ^ opad) || SHA1((K ^ ipad) || content))`, K the
/// key zero-padded to the 64-byte block (hashed first when longer), exactly what `HMAC<Insecure.SHA1>` computes
/// (AclSigningKeyTests check both agree). Built here, not on `HMAC`, because `HMAC` takes content only through
/// its generic `DataProtocol` update, which showed in profiles; `SHA1.update(bufferPointer:)` takes raw bytes.
/// A check costs two allocations, both swift-crypto's: the first update of each copied state copies its context
/// (the stored states stay shared).
///
/// `@unchecked Sendable`: `inner` and `outer` are `let`s never mutated in place. Users copy them into a local `var`
/// first; swift-crypto's digest state is copy-on-write (`OpenSSLDigestImpl.update` copies its context unless
/// uniquely referenced, and the stored copy keeps it shared; `finalize` reads a copy of the context), so
/// concurrent copies only read the shared state.
public struct AclSigningKey: @unchecked Sendable, Equatable {
    public let secret: String
    private let inner: Insecure.SHA1
    private let outer: Insecure.SHA1

    public init(_ secret: String) {
        self.secret = secret
        let blockByteCount = Insecure.SHA1.blockByteCount
        var block = [UInt8](repeating: 0, count: blockByteCount)
        let utf8 = Array(secret.utf8)
        if utf8.count > blockByteCount {
            Insecure.SHA1.hash(data: utf8).withUnsafeBytes { block.replaceSubrange(0 ..< $0.count, with: $0) }
        } else {
            block.replaceSubrange(0 ..< utf8.count, with: utf8)
        }
        func keyed(_ pad: UInt8) -> Insecure.SHA1 {
            var state = Insecure.SHA1()
            state.update(data: block.map { $0 ^ pad })
            return state
        }
        inner = keyed(0x36)
        outer = keyed(0x5C)
    }

    /// The HmacSHA1 of the bytes `feed` passes to its argument, in order, written into `mac` (20 bytes).
    func mac(into mac: UnsafeMutableRawBufferPointer,
             _ feed: (_ update: (UnsafeRawBufferPointer) -> Void) -> Void) {
        precondition(mac.count >= AclSignatureText.digestByteCount)
        var content = inner
        feed { content.update(bufferPointer: $0) }
        var result = outer
        content.finalize().withUnsafeBytes { result.update(bufferPointer: $0) }
        result.finalize().withUnsafeBytes { mac.copyMemory(from: $0) }
    }

    public static func == (lhs: AclSigningKey, rhs: AclSigningKey) -> Bool { lhs.secret == rhs.secret }
}
