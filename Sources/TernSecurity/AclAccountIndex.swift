import TernRemoting

/// Accounts by the UTF-8 of their access key, so a request's `AccessKey` is looked up in place: reading it as a
/// `String` allocated for keys longer than 15 bytes, on every request.
///
/// Open addressing over a power-of-two table (at most half full) by FNV-1a of the key's bytes, then a byte
/// comparison: a crafted key can collide only with configured accounts, so a lookup compares against a handful
/// at most. A hit is a reference to the account's entry: the account (its HMAC states are ~200 bytes, its
/// names and permissions reference-counted) is read in place, never copied per request.
struct AclAccountIndex: Sendable, Equatable {
    final class Entry: Sendable {
        let account: AclAccount
        let keyBytes: [UInt8]

        init(_ account: AclAccount) {
            self.account = account
            keyBytes = Array(account.accessKey.utf8)
        }
    }

    private let slots: [Entry?]
    private let mask: Int
    /// The longest access key's UTF-8 length: a longer `AccessKey` is unknown without being read further.
    private let keyByteCountMax: Int

    init(_ accounts: some Sequence<AclAccount>) {
        let entries = accounts.map(Entry.init)
        var capacity = 4
        while capacity < 2 * entries.count { capacity *= 2 }
        var slots = [Entry?](repeating: nil, count: capacity)
        for entry in entries {
            var i = entry.keyBytes.withUnsafeBytes(Self.hash) & (capacity - 1)
            while slots[i] != nil { i = (i + 1) & (capacity - 1) }
            slots[i] = entry
        }
        self.slots = slots
        mask = capacity - 1
        keyByteCountMax = entries.map(\.keyBytes.count).max() ?? 0
    }

    enum Lookup {
        /// The request has no `AccessKey`.
        case missing
        /// No account has the request's `AccessKey`.
        case unknown
        case found(Entry)
    }

    /// The keys a request's credentials are read from, located in one pass (``RemotingExtFields/locate(_:)``):
    /// `AccessKey` is number 0, `Signature` number 1.
    let credentialKeys = RemotingExtFields.KeySet([AclSigner.accessKeyKey, AclSigner.signatureKey])

    /// The account named by `extFields`' `AccessKey`, read in place.
    func account(for extFields: RemotingExtFields) -> Lookup {
        account(for: extFields, accessKeyAt: extFields.index(of: AclSigner.accessKeyKey))
    }

    /// ``account(for:)`` with the `AccessKey` field's position already known (nil: absent).
    func account(for extFields: RemotingExtFields, accessKeyAt index: Int?) -> Lookup {
        guard let index else { return .missing }
        return withUnsafeTemporaryAllocation(byteCount: keyByteCountMax, alignment: 1) { buffer in
            var count = 0
            extFields.forEachUTF8Run(ofValueAt: index) { run in
                if count + run.count <= buffer.count {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[count...]).copyMemory(from: run)
                }
                count += run.count
            }
            guard count <= buffer.count else { return .unknown }
            let key = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            var i = Self.hash(key) & mask
            while let entry = slots[i] {
                if entry.keyBytes.withUnsafeBytes({ $0.elementsEqual(key) }) { return .found(entry) }
                i = (i + 1) & mask
            }
            return .unknown
        }
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    static func == (lhs: AclAccountIndex, rhs: AclAccountIndex) -> Bool {
        lhs.slots.map { $0?.account } == rhs.slots.map { $0?.account }
    }
}
