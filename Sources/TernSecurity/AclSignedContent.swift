import TernRemoting

/// The header part of a request's signed content (``AclSigner``): the values of every extField except
/// `Signature` and `_UNIQUE_KEY_QUERY`, in ascending key order by Java's `String.compareTo` (UTF-16 code units).
///
/// No string is built and no field array allocated. The order of a header's keys repeats request after request,
/// so it is looked up in ``AclKeyOrders`` (a fingerprint of the keys in arrival order, then a byte comparison);
/// only a new key set is sorted: fields referenced by position from a stack buffer, sorted there by moving
/// entries (an insertion sort: headers carry ~15 fields, decoders cap them at ``RemotingLimits/extFieldsCountMax``).
/// The values' UTF-8 is read in place from the request's header bytes (escaped values unescaped on the way,
/// ``RemotingExtFields/copyUTF8(ofValuesAt:into:)``), gathered in one stack block (``AclSigner``).
///
/// Order: each key carries its first 8 UTF-8 bytes as a big-endian integer, so most comparisons are one integer
/// comparison. For ASCII keys byte order is UTF-16 order; when any key is not ASCII every comparison uses
/// UTF-16 code units (UTF-8 order differs from UTF-16 order for characters above U+FFFF).
enum AclSignedContent {
    private struct Field {
        let key: String
        /// The field's position in the request's extFields: its value is read from there as bytes.
        let index: Int
        /// The key's first 8 UTF-8 bytes, big-endian, zero-padded: zero padding keeps a prefix before its
        /// extensions, and equal prefixes fall back to the full comparison.
        let head: UInt64
    }

    /// Calls `sink` with the content's bytes in order (possibly in several pieces), remembering a newly sorted
    /// order in `orders` (a signer's own headers; nil: sort every time).
    static func feed(_ extFields: RemotingExtFields, orders: AclKeyOrders? = .shared,
                     _ sink: (UnsafeRawBufferPointer) -> Void) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: extFields.count) { scratch in
            let found = order(extFields, orders: orders, scratch: scratch)
            if let orders, let fingerprint = found.sortedFingerprint {
                orders.remember(found.order, for: extFields, fingerprint: fingerprint)
            }
            extFields.forEachUTF8Run(ofValuesAt: found.order, sink)
        }
    }

    /// The positions of `extFields`' signed fields in signing order: found in `orders` (the buffer of an entry
    /// it keeps, valid while `orders` lives) or sorted now into `scratch` (capacity at least `extFields.count`).
    /// `sortedFingerprint`: set when the order was sorted and `orders` may remember it (a verifier does so only
    /// once the signature proved valid). A return value, not a closure: a closure over `extFields` handed to a
    /// call that is not inlined copied the fields (retains) per request.
    static func order(_ extFields: borrowing RemotingExtFields, orders: AclKeyOrders?,
                      scratch: UnsafeMutableBufferPointer<Int>) -> (order: UnsafeBufferPointer<Int>, sortedFingerprint: UInt64?) {
        var fingerprint: UInt64?
        if let orders, extFields.count <= AclKeyOrders.fieldCountMax {
            let known = AclKeyOrders.fingerprint(extFields)
            if let order = orders.order(for: extFields, fingerprint: known) { return (order, nil) }
            fingerprint = known
        }
        return (UnsafeBufferPointer(scratch.extracting(0..<sortedOrder(extFields, into: scratch))), fingerprint)
    }

    /// Writes the positions of the signed fields in signing order into `order` (capacity `extFields.count`);
    /// returns how many.
    static func sortedOrder(_ extFields: borrowing RemotingExtFields, into order: UnsafeMutableBufferPointer<Int>) -> Int {
        withUnsafeTemporaryAllocation(of: Field.self, capacity: extFields.count) { fields in
            var count = 0, ascii = true
            for index in 0 ..< extFields.count {
                let key = extFields.key(at: index)
                guard key != AclSigner.signatureKey && key != AclSigner.uniqueKeyQueryFlag else { continue }
                let (head, isASCII) = Self.head(key)
                ascii = ascii && isASCII
                fields.initializeElement(at: count, to: Field(key: key, index: index, head: head))
                count += 1
            }
            defer { fields.extracting(0..<count).deinitialize() }
            for i in 1..<max(count, 1) {
                var j = i
                while j > 0, precedes(fields[j], fields[j - 1], ascii: ascii) {
                    fields.swapAt(j, j - 1)
                    j -= 1
                }
            }
            for i in 0..<count { order[i] = fields[i].index }
            return count
        }
    }

    private static func precedes(_ a: Field, _ b: Field, ascii: Bool) -> Bool {
        guard ascii else { return a.key.utf16.lexicographicallyPrecedes(b.key.utf16) }
        if a.head != b.head { return a.head < b.head }
        return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
    }

    static func head(_ key: String) -> (head: UInt64, ascii: Bool) {
        var head: UInt64 = 0, high: UInt8 = 0, shift: UInt64 = 56
        for byte in key.utf8 {
            high |= byte
            if shift <= 56 { head |= UInt64(byte) << shift }
            shift &-= 8
        }
        return (head, high < 0x80)
    }
}
