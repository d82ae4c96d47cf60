import CCryptoBoringSSL

/// A SHA-1 state as a plain value: BoringSSL's `SHA_CTX`, the implementation behind swift-crypto's
/// `Insecure.SHA1` (same code, SHA-NI / AVX2 / SSSE3 block functions picked at run time), without its class box.
///
/// Why not `Insecure.SHA1`: swift-crypto keeps the state in a class (`DigestContext`); `init()` allocates one,
/// and `update` on a copy that shares it allocates another (`OpenSSLDigestImpl.update` copies unless uniquely
/// referenced); there is no reset. HmacSHA1 from precomputed keyed states (RFC 2104's ipad / opad blocks) thus
/// cost two heap allocations per message. Copying this state copies 96 bytes and allocates nothing.
///
/// The C module is swift-crypto's vendored BoringSSL (`CCryptoBoringSSL`, built for `Crypto`); it is not a
/// product of swift-crypto, so it is imported through `Crypto`'s dependency, here only.
public struct SHA1Context: Sendable {
    public static let digestByteCount = 20
    public static let blockByteCount = 64

    private var state = SHA_CTX()

    /// The state before any byte (`SHA1_Init`).
    public init() {
        CCryptoBoringSSL_SHA1_Init(&state)
    }

    /// Hashes `bytes` after those hashed so far (`SHA1_Update`).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        CCryptoBoringSSL_SHA1_Update(&state, base, bytes.count)
    }

    /// Writes the digest of the bytes hashed into `digest`'s first 20 bytes (`SHA1_Final`). Consuming: the
    /// state is spent (its padding added); copy the value before finalizing to continue from it.
    public consuming func finalize(into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= Self.digestByteCount)
        CCryptoBoringSSL_SHA1_Final(digest.baseAddress!.assumingMemoryBound(to: UInt8.self), &state)
    }
}
