import Synchronization
import TernRemoting

/// Recently seen signing orders: for a header's keys in their arrival order, the positions of the signed fields
/// in signing order (``AclSignedContent``). A client writes the same keys in the same order request after
/// request (one header type per code), so a request is fed in order without sorting.
///
/// A slot is chosen by a fingerprint of the keys (count, each key's signature as the header table keeps it:
/// UTF-8 length, first and last bytes); a hit is then checked key by key, signature then byte for byte (not `String ==`, which is canonical equivalence: `"\u{212A}"` ==
/// `"K"` but they sort apart), so a changed key set is never served another set's order. A miss sorts.
///
/// What is remembered: a verifier remembers a key set only after the request's signature proved valid, so
/// junk key sets (forged requests) neither evict nor grow anything; a signer remembers its own. At most
/// ``entryCountMax`` distinct key sets are ever remembered (later ones are sorted every time).
///
/// Thread-safety: a lookup takes no lock and no reference count: one acquiring atomic load of the slot, then
/// reads of an immutable entry. Entries are published with a releasing store and never freed while this
/// table lives (every entry ever published is kept in `published`, so a reader still using a replaced entry
/// is safe, as for ``PlainAclFile``'s snapshots); writers (misses only) serialize on a lock.
final class AclKeyOrders: Sendable {
    /// The process's orders (key orders hold nothing secret, so all accounts and connections share them).
    static let shared = AclKeyOrders()
    static let slotCount = 64  // `slots`' count
    /// Headers with more fields are sorted every time (real headers carry about 15).
    static let fieldCountMax = 48
    /// Distinct key sets remembered over the table's life (a client uses a handful).
    static let entryCountMax = 4_096

    final class Entry: Sendable {
        let fingerprint: UInt64
        /// The keys' UTF-8 in arrival order, back to back; key `i` ends at `keyEnds[i]`.
        let keyBytes: [UInt8]
        let keyEnds: [Int]
        /// The keys' signatures (``RemotingExtFields/keySignature(at:)``), compared before the bytes.
        let keySignatures: [UInt32]
        /// Positions of the signed fields, in signing order.
        let order: [Int]

        init(fingerprint: UInt64, fields: RemotingExtFields, order: [Int]) {
            self.fingerprint = fingerprint
            var bytes: [UInt8] = [], ends: [Int] = []
            for i in 0..<fields.count {
                bytes.append(contentsOf: fields.key(at: i).utf8)
                ends.append(bytes.count)
            }
            keyBytes = bytes
            keyEnds = ends
            keySignatures = (0..<fields.count).map(fields.keySignature(at:))
            self.order = order
        }

        /// True when `fields`' keys are these keys, byte for byte, in this order.
        func matches(_ fields: RemotingExtFields) -> Bool {
            guard keyEnds.count == fields.count else { return false }
            return keyBytes.withUnsafeBytes { bytes in
                keySignatures.withUnsafeBufferPointer { signatures in
                    var start = 0
                    for i in 0..<signatures.count {
                        guard signatures[i] == fields.keySignature(at: i),
                              fields.key(at: i, isUTF8: UnsafeRawBufferPointer(rebasing: bytes[start..<keyEnds[i]]))
                        else { return false }
                        start = keyEnds[i]
                    }
                    return true
                }
            }
        }
    }

    /// Inline, not an array of slot objects: a lookup then touches no reference count at all.
    private let slots: InlineArray<64, Atomic<Unmanaged<Entry>?>>
    /// Every entry ever published, by fingerprint (a key set remembered again reuses its entry).
    private let published = Mutex<(entries: [UInt64: [Entry]], count: Int)>(([:], 0))

    init() { slots = InlineArray { _ in Atomic(nil) } }

    /// The cached order for `fields`' keys (in their arrival order), or nil. Calls `body` with it.
    func withOrder<R>(for fields: RemotingExtFields, fingerprint: UInt64,
                      _ body: (UnsafeBufferPointer<Int>) -> R) -> R? {
        guard let entry = slots[slot(fingerprint)].load(ordering: .acquiring) else { return nil }
        return entry._withUnsafeGuaranteedRef { entry in
            guard entry.fingerprint == fingerprint, entry.matches(fields) else { return nil }
            return entry.order.withUnsafeBufferPointer(body)
        }
    }

    /// Remembers `order` (positions in signing order) for `fields`' keys.
    func remember(_ order: UnsafeBufferPointer<Int>, for fields: RemotingExtFields, fingerprint: UInt64) {
        let entry: Entry? = published.withLock { published in
            if let known = published.entries[fingerprint]?.first(where: { $0.matches(fields) }) { return known }
            guard published.count < Self.entryCountMax else { return nil }
            let entry = Entry(fingerprint: fingerprint, fields: fields, order: Array(order))
            published.entries[fingerprint, default: []].append(entry)
            published.count += 1
            return entry
        }
        guard let entry else { return }
        slots[slot(fingerprint)].store(Unmanaged.passUnretained(entry), ordering: .releasing)
    }

    private func slot(_ fingerprint: UInt64) -> Int { Int(fingerprint % UInt64(Self.slotCount)) }

    /// Count, then each key's signature (kept by the table since the key was set: no pass over the key), mixed.
    static func fingerprint(_ fields: RemotingExtFields) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(fields.count)
        for i in 0..<fields.count {
            hash = (hash ^ UInt64(fields.keySignature(at: i))) &* 0x0000_0100_0000_01B3
        }
        // The multiplications carry low bits upward only, and the slot is the low bits: mix the high ones down
        // (MurmurHash3's finalizer), or one-letter keys (signatures alike in their low bits) would share slots.
        hash = (hash ^ (hash >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        hash = (hash ^ (hash >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 33)
    }
}
