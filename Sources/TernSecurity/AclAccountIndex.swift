import TernRemoting

/// Accounts by the UTF-8 of their access key, so a request's `AccessKey` is looked up in place: reading it as a
/// `String` allocated for keys longer than 15 bytes, on every request.
///
/// A bucket per FNV-1a hash of the key's bytes, then a byte comparison: a crafted key can collide only with
/// configured accounts, so a lookup compares against a handful at most.
struct AclAccountIndex: Sendable, Equatable {
    private let buckets: [UInt64: [AclAccount]]
    /// The longest access key's UTF-8 length: a longer `AccessKey` is unknown without being read further.
    private let keyByteCountMax: Int

    init(_ accounts: some Sequence<AclAccount>) {
        var buckets: [UInt64: [AclAccount]] = [:], longest = 0
        for account in accounts {
            let utf8 = Array(account.accessKey.utf8)
            utf8.withUnsafeBytes { buckets[Self.hash($0), default: []].append(account) }
            longest = max(longest, utf8.count)
        }
        self.buckets = buckets
        keyByteCountMax = longest
    }

    enum Lookup {
        /// The request has no `AccessKey`.
        case missing
        /// No account has the request's `AccessKey`.
        case unknown
        case found(AclAccount)
    }

    /// The account named by `extFields`' `AccessKey`, read in place.
    func account(for extFields: RemotingExtFields) -> Lookup {
        withUnsafeTemporaryAllocation(byteCount: keyByteCountMax, alignment: 1) { buffer in
            var count = 0
            let present = extFields.forEachUTF8Run(ofValueFor: AclSigner.accessKeyKey) { run in
                if count + run.count <= buffer.count {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[count...]).copyMemory(from: run)
                }
                count += run.count
            }
            guard present else { return .missing }
            guard count <= buffer.count else { return .unknown }
            let key = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            for account in buckets[Self.hash(key)] ?? [] {
                var accessKey = account.accessKey
                if accessKey.withUTF8({ UnsafeRawBufferPointer($0).elementsEqual(key) }) { return .found(account) }
            }
            return .unknown
        }
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
