import Synchronization
import TernRemoting

/// Recently seen signing orders: for a header's keys in their arrival order, the positions of the signed fields
/// in signing order (``AclSignedContent``). A client writes the same keys in the same order request after
/// request (one header type per code), so a request is fed in order without sorting.
///
/// A slot is chosen by a fingerprint of the keys (count, each key's UTF-8 length and first 8 bytes); a hit is
/// then checked key by key, byte for byte (not `String ==`, which is canonical equivalence: `"\u{212A}"` ==
/// `"K"` but they sort apart), so a changed key set is never served another set's order. A miss sorts and
/// replaces the slot (one allocation per miss, none per hit). Junk key sets only evict: they cost a sort, as
/// without the cache.
///
/// Thread-safety: each slot is a lock around an immutable entry; a lookup holds the lock only to copy the entry
/// reference out (event loops sending the same header type share a slot).
final class AclKeyOrders: Sendable {
    /// The process's orders (key orders hold nothing secret, so all accounts and connections share them).
    static let shared = AclKeyOrders()
    static let slotCount = 64
    /// Headers with more fields are sorted every time (real headers carry about 15).
    static let fieldCountMax = 48

    final class Entry: Sendable {
        let fingerprint: UInt64
        /// The keys in arrival order.
        let keys: [String]
        /// Positions of the signed fields, in signing order.
        let order: [Int]

        init(fingerprint: UInt64, keys: [String], order: [Int]) {
            self.fingerprint = fingerprint
            self.keys = keys
            self.order = order
        }
    }

    private final class Slot: Sendable {
        let entry = Mutex<Entry?>(nil)
    }

    private let slots: [Slot]

    init() { slots = (0..<Self.slotCount).map { _ in Slot() } }

    /// The cached order for `fields`' keys (in their arrival order), or nil.
    func order(for fields: RemotingExtFields, fingerprint: UInt64) -> Entry? {
        let slot = slots[Int(fingerprint % UInt64(Self.slotCount))]
        guard let entry = slot.entry.withLock({ $0 }), entry.fingerprint == fingerprint,
              entry.keys.count == fields.count else { return nil }
        for i in 0..<fields.count where !Self.sameUTF8(entry.keys[i], fields.key(at: i)) { return nil }
        return entry
    }

    /// Remembers `order` (positions in signing order) for `fields`' keys.
    func remember(_ order: UnsafeMutableBufferPointer<Int>, for fields: RemotingExtFields, fingerprint: UInt64) {
        let entry = Entry(fingerprint: fingerprint, keys: (0..<fields.count).map(fields.key(at:)), order: Array(order))
        slots[Int(fingerprint % UInt64(Self.slotCount))].entry.withLock { $0 = entry }
    }

    /// Count, then each key's UTF-8 length and first 8 bytes (``AclSignedContent/head(_:)``), mixed.
    static func fingerprint(_ fields: RemotingExtFields) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(fields.count)
        for i in 0..<fields.count {
            let key = fields.key(at: i)
            hash = (hash ^ AclSignedContent.head(key).head) &* 0x0000_0100_0000_01B3
            hash = (hash ^ UInt64(key.utf8.count)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// Byte equality of two strings' UTF-8.
    static func sameUTF8(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in x.count == y.count && UnsafeRawBufferPointer(x).elementsEqual(UnsafeRawBufferPointer(y)) }
        }
    }
}
