internal import TernSystem

/// A secret key with the HmacSHA1 states after its key blocks, computed once per account: a request copies those
/// states (plain values, on the stack) and hashes its content and the inner digest only. No allocation.
///
/// HMAC (RFC 2104) over BoringSSL's SHA-1 (``SHA1Context``): `SHA1((K ^ opad) || SHA1((K ^ ipad) || content))`,
/// K the key zero-padded to the 64-byte block (hashed first when longer), exactly what swift-crypto's
/// `HMAC<Insecure.SHA1>` computes (AclSigningKeyTests check both agree). Not `HMAC` / `Insecure.SHA1`: their
/// state is a class, so every message copied it (two heap allocations per check; see ``SHA1Context``).
///
/// The two states live in one immutable object: an account's key is then copied (verifiers pass it around)
/// for one reference count instead of ~200 bytes and a destroy.
public struct AclSigningKey: Sendable, Equatable {
    public let secret: String
    private let states: States

    private final class States: Sendable {
        let inner: SHA1Context
        let outer: SHA1Context
        init(inner: SHA1Context, outer: SHA1Context) {
            self.inner = inner
            self.outer = outer
        }
    }

    public init(_ secret: String) {
        self.secret = secret
        var block = [UInt8](repeating: 0, count: SHA1Context.blockByteCount)
        let utf8 = Array(secret.utf8)
        block.withUnsafeMutableBytes { block in
            if utf8.count > block.count {
                var long = SHA1Context()
                utf8.withUnsafeBytes { long.update($0) }
                long.finalize(into: block)
            } else {
                utf8.withUnsafeBytes { block.copyMemory(from: $0) }
            }
        }
        func keyed(_ pad: UInt8) -> SHA1Context {
            var state = SHA1Context()
            block.map { $0 ^ pad }.withUnsafeBytes { state.update($0) }
            return state
        }
        states = States(inner: keyed(0x36), outer: keyed(0x5C))
    }

    /// The HmacSHA1 of the bytes `feed` passes to its argument, in order, written into `mac` (20 bytes).
    func mac(into mac: UnsafeMutableRawBufferPointer,
             _ feed: (_ update: (UnsafeRawBufferPointer) -> Void) -> Void) {
        precondition(mac.count >= AclSignatureText.digestByteCount)
        var content = states.inner
        feed { content.update($0) }
        content.finalize(into: mac)
        var result = states.outer
        result.update(UnsafeRawBufferPointer(rebasing: mac[0 ..< SHA1Context.digestByteCount]))
        result.finalize(into: mac)
    }

    public static func == (lhs: AclSigningKey, rhs: AclSigningKey) -> Bool { lhs.secret == rhs.secret }
}
