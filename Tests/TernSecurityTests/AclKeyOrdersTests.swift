import Testing
import TernRemoting
@testable import TernSecurity

/// Signing orders served from ``AclKeyOrders``: the content fed is always the values in Java's key order,
/// whether the order was sorted now or found.
@Suite struct AclKeyOrdersTests {
    /// The signed header content as Java builds it, without our code: values by keys in UTF-16 order.
    func javaContent(_ fields: RemotingExtFields) -> [UInt8] {
        let keys = fields.keys.filter { $0 != "Signature" && $0 != "_UNIQUE_KEY_QUERY" }
            .sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
        return keys.flatMap { Array(fields[$0]!.utf8) }
    }

    func fed(_ fields: RemotingExtFields, _ orders: AclKeyOrders?) -> [UInt8] {
        var content: [UInt8] = []
        AclSignedContent.feed(fields, orders: orders) { content.append(contentsOf: $0) }
        return content
    }

    /// The order `orders` holds for `fields`' keys, nil when none.
    func cached(_ fields: RemotingExtFields, _ orders: AclKeyOrders) -> [Int]? {
        orders.order(for: fields, fingerprint: AclKeyOrders.fingerprint(fields)).map(Array.init)
    }

    func fields(_ pairs: [(String, String)]) -> RemotingExtFields {
        var fields = RemotingExtFields()
        for (key, value) in pairs { fields[key] = value }
        return fields
    }

    @Test func sameKeysInAnotherArrivalOrderBothVerify() {
        let orders = AclKeyOrders()
        let pairs = [("b", "topic"), ("a", "group"), ("AccessKey", "ak"), ("Signature", "s"), ("d", "4"), ("c", "x")]
        let first = fields(pairs), second = fields(pairs.reversed())
        for _ in 0..<3 {
            #expect(fed(first, orders) == javaContent(first))
            #expect(fed(second, orders) == javaContent(second))
        }
        // Each checked right after it was fed: the two sets may share a slot, where the later one evicts.
        _ = fed(first, orders)
        #expect(cached(first, orders) != nil)
        _ = fed(second, orders)
        #expect(cached(second, orders) != nil)
        // Signed one way, verified the other (the signer's order came from the cache too).
        var signed = first
        AclSigner.sign(&signed, body: nil, accessKey: "ak", secretKey: "sk")
        let reordered = fields(signed.reversed().map { ($0.key, $0.value) })
        #expect(AclSigner.isValid(signed["Signature"], extFields: reordered, body: nil, key: AclSigningKey("sk")))
        #expect(AclSigner.isValid(signed["Signature"], extFields: signed, body: nil, key: AclSigningKey("sk")))
    }

    /// Keys of equal length and equal first and last bytes give one fingerprint: the second set must be sorted,
    /// not served the first set's order.
    @Test func changedKeySetWithTheSameFingerprintIsNotServedAStaleOrder() {
        let orders = AclKeyOrders()
        let cached = fields([("abcdefgh1x", "one"), ("abcdefgh2x", "two"), ("z", "last")])
        let swapped = fields([("abcdefgh2x", "one"), ("abcdefgh1x", "two"), ("z", "last")])
        #expect(AclKeyOrders.fingerprint(cached) == AclKeyOrders.fingerprint(swapped))
        #expect(fed(cached, orders) == Array("onetwolast".utf8))
        #expect(fed(swapped, orders) == Array("twoonelast".utf8))
        #expect(fed(cached, orders) == Array("onetwolast".utf8))
        // Keys equal as Strings (canonical equivalence: U+212A KELVIN SIGN == "K") with one fingerprint, but
        // sorting on different sides of "abcdefghL".
        let kelvin = fields([("abcdefgh\u{212A}\u{00C5}\u{00C5}", "k"), ("abcdefghL", "l")])
        let ascii = fields([("abcdefghK\u{212B}\u{212B}", "k"), ("abcdefghL", "l")])
        #expect(kelvin.keys[0] == ascii.keys[0])
        #expect(AclKeyOrders.fingerprint(kelvin) == AclKeyOrders.fingerprint(ascii))
        #expect(fed(ascii, orders) == javaContent(ascii) && fed(ascii, orders) == Array("kl".utf8))
        #expect(fed(kelvin, orders) == javaContent(kelvin) && fed(kelvin, orders) == Array("lk".utf8))
        // A changed key set (one key more) and a header too large to cache.
        var grown = cached
        grown["abcdefgh0x"] = "zero"
        #expect(fed(grown, orders) == Array("zeroonetwolast".utf8))
        var large = RemotingExtFields()
        for i in (0..<(AclKeyOrders.fieldCountMax + 5)).reversed() { large["k\(i)"] = "\(i)," }
        #expect(fed(large, orders) == javaContent(large))
        #expect(fed(large, nil) == javaContent(large))
    }

    /// A verifier remembers a key set only once a request carrying it was signed right: forged requests with
    /// new key sets neither evict a slot nor grow the table.
    @Test func aKeySetIsRememberedOnlyAfterAValidSignature() {
        let orders = AclKeyOrders()
        let key = AclSigningKey("sk")
        var signed = fields([("b", "topic"), ("a", "group"), ("d", "4")])
        AclSigner.sign(&signed, body: nil, accessKey: "ak", key: key)
        var forged = signed
        forged["Signature"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        #expect(!AclSigner.isSignatureValid(forged, body: nil, key: key, orders: orders))
        #expect(cached(forged, orders) == nil)
        #expect(!AclSigner.isSignatureValid(signed, body: nil, key: AclSigningKey("other"), orders: orders))
        #expect(cached(signed, orders) == nil)
        #expect(AclSigner.isSignatureValid(signed, body: nil, key: key, orders: orders))
        let order = cached(signed, orders)
        #expect(order != nil)
        // Served from the table, it still verifies (and a second valid request reuses the entry).
        #expect(AclSigner.isSignatureValid(signed, body: nil, key: key, orders: orders))
        #expect(cached(signed, orders) == order)
    }
}
