import Synchronization
import TernRemoting

/// Recently seen signing orders: for a header's keys in their arrival order, the positions of the signed fields
/// in signing order (``AclSignedContent``). A client writes the same keys in the same order request after
/// request (one header type per code), so a request is fed in order without sorting.
///
/// A slot is chosen by a fingerprint of the keys (count, each key's signature as the header table keeps it:
/// UTF-8 length, first and last bytes); a hit is then checked key by key, signature then byte for byte (String
/// `==` alone is canonical equivalence: `"\u{212A}"` == `"K"` but they sort apart; see ``Entry/matches(_:)``), so
/// a changed key set is never served another set's order. A miss sorts.
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
        /// The keys in arrival order.
        let keys: [String]
        /// The keys' signatures (``RemotingExtFields/keySignature(at:)``), compared before the keys.
        let keySignatures: [UInt32]
        /// Positions of the signed fields, in signing order: its own allocation, freed with the entry, so a
        /// reader holds a plain pointer to it while the table lives (no closure over the request's fields).
        /// `nonisolated(unsafe)` is sound: the memory is written once in `init`, before the entry is published
        /// (a releasing store), only read afterwards, and freed in `deinit`, after the last reference.
        nonisolated(unsafe) let order: UnsafeBufferPointer<Int>

        init(fingerprint: UInt64, fields: RemotingExtFields, order: UnsafeBufferPointer<Int>) {
            self.fingerprint = fingerprint
            keys = (0..<fields.count).map(fields.key(at:))
            keySignatures = (0..<fields.count).map(fields.keySignature(at:))
            let kept = UnsafeMutableBufferPointer<Int>.allocate(capacity: order.count)
            _ = kept.initialize(from: order)
            self.order = UnsafeBufferPointer(kept)
        }

        deinit { order.deallocate() }

        /// True when `fields`' keys are these keys, byte for byte, in this order.
        ///
        /// Equal non-zero signatures mean both keys are ASCII of one length, and ASCII strings are canonically
        /// equivalent only when their bytes are equal, so String `==` (whose first test is the strings' raw
        /// representation: one comparison for the same short or interned key) is byte equality there. Keys
        /// with signature 0 (empty or not ASCII) are compared byte for byte.
        func matches(_ fields: borrowing RemotingExtFields) -> Bool {
            guard keys.count == fields.count else { return false }
            return keySignatures.withUnsafeBufferPointer { signatures in
                keys.withUnsafeBufferPointer { keys in
                    for i in 0..<signatures.count {
                        guard signatures[i] == fields.keySignature(at: i) else { return false }
                        if signatures[i] != 0 {
                            guard fields.key(at: i) == keys[i] else { return false }
                        } else {
                            var key = keys[i]
                            guard key.withUTF8({ fields.key(at: i, isUTF8: UnsafeRawBufferPointer($0)) }) else { return false }
                        }
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

    /// The cached order for `fields`' keys (in their arrival order), or nil. The buffer belongs to an entry
    /// this table keeps: valid while the table lives (the caller holds it).
    func order(for fields: borrowing RemotingExtFields, fingerprint: UInt64) -> UnsafeBufferPointer<Int>? {
        guard let entry = slots[slot(fingerprint)].load(ordering: .acquiring) else { return nil }
        return entry._withUnsafeGuaranteedRef { entry in
            entry.fingerprint == fingerprint && entry.matches(fields) ? entry.order : nil
        }
    }

    /// Remembers `order` (positions in signing order) for `fields`' keys.
    func remember(_ order: UnsafeBufferPointer<Int>, for fields: RemotingExtFields, fingerprint: UInt64) {
        let entry: Entry? = published.withLock { published in
            if let known = published.entries[fingerprint]?.first(where: { $0.matches(fields) }) { return known }
            guard published.count < Self.entryCountMax else { return nil }
            let entry = Entry(fingerprint: fingerprint, fields: fields, order: order)
            published.entries[fingerprint, default: []].append(entry)
            published.count += 1
            return entry
        }
        guard let entry else { return }
        slots[slot(fingerprint)].store(Unmanaged.passUnretained(entry), ordering: .releasing)
    }

    private func slot(_ fingerprint: UInt64) -> Int { Int(fingerprint % UInt64(Self.slotCount)) }

    /// Count, then each key's signature (kept by the table since the key was set: no pass over the key), mixed.
    static func fingerprint(_ fields: borrowing RemotingExtFields) -> UInt64 {
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
