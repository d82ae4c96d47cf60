import TernRemoting

/// Accounts by the UTF-8 of their access key, so a request's `AccessKey` is looked up in place: reading it as a
/// `String` allocated for keys longer than 15 bytes, on every request.
///
/// Open addressing over a power-of-two table (at most half full) by FNV-1a of the key's bytes, then a byte
/// comparison: a crafted key can collide only with configured accounts, so a lookup compares against a handful
/// at most. A hit is the account object (read in place, never copied per request).
///
/// A class: a lookup's closures capture the index, and capturing a struct copied its arrays (retains).
final class AclAccountIndex: Sendable, Equatable {
    private struct Slot: Sendable {
        let account: AclAccount
        let keyBytes: [UInt8]
    }

    private let slots: [Slot?]
    private let mask: Int
    /// The longest access key's UTF-8 length: a longer `AccessKey` is unknown without being read further.
    private let keyByteCountMax: Int
    /// The keys a request's credentials are read from, with their signatures computed once: `AccessKey` is
    /// number 0, `Signature` number 1.
    let credentialKeys = RemotingExtFields.KeySet([AclSigner.accessKeyKey, AclSigner.signatureKey])

    init(_ accounts: some Sequence<AclAccount>) {
        let entries = accounts.map { Slot(account: $0, keyBytes: Array($0.accessKey.utf8)) }
        var capacity = 4
        while capacity < 2 * entries.count { capacity *= 2 }
        var slots = [Slot?](repeating: nil, count: capacity)
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
        case found(AclAccount)
    }

    /// The account named by `extFields`' `AccessKey` at `index` (nil: absent), read in place. A value read in one
    /// run (any key without escapes) is looked up where it lies; an escaped one is gathered on the stack first.
    func account(for extFields: borrowing RemotingExtFields, accessKeyAt index: Int?) -> Lookup {
        guard let index else { return .missing }
        var runs = 0, firstRun: Lookup = .unknown
        extFields.forEachUTF8Run(ofValueAt: index) { run in
            runs += 1
            if runs == 1 { firstRun = account(forKey: run) }
        }
        if runs == 1 { return firstRun }
        return withUnsafeTemporaryAllocation(byteCount: keyByteCountMax, alignment: 1) { buffer in
            var count = 0
            extFields.forEachUTF8Run(ofValueAt: index) { run in
                if count + run.count <= buffer.count {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[count...]).copyMemory(from: run)
                }
                count += run.count
            }
            guard count <= buffer.count else { return .unknown }
            return account(forKey: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    private func account(forKey key: UnsafeRawBufferPointer) -> Lookup {
        guard key.count <= keyByteCountMax else { return .unknown }
        return slots.withUnsafeBufferPointer { slots in
            var i = Self.hash(key) & mask
            while let slot = slots[i] {
                if slot.keyBytes.withUnsafeBytes({ $0.elementsEqual(key) }) { return .found(slot.account) }
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
