import NIOCore
import Testing
import TernRemoting
@testable import TernSecurity

/// ``AclSigningKey`` builds HmacSHA1 on BoringSSL's SHA-1 (``SHA1Context``); it must agree with swift-crypto's `HMAC`
/// (``AclSigner/signature(content:secretKey:)``) for every key length (shorter than, equal to and longer than the
/// 64-byte block, which is hashed first) and however the content is split into pieces.
@Suite struct AclSigningKeyTests {
    @Test func agreesWithSwiftCryptoHMACForEveryKeyLength() {
        var rng = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 19, 20, 63, 64, 65, 127, 128, 200] {
            let secret = String((0 ..< keyLength).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789é".randomElement(using: &rng)! })
            let content = (0 ..< Int.random(in: 0 ... 3_000, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let expected = AclSigner.signature(content: content, secretKey: secret)
            let key = AclSigningKey(secret)
            for _ in 0 ..< 4 {
                let text = withUnsafeTemporaryAllocation(byteCount: AclSignatureText.digestByteCount, alignment: 1) { mac in
                    key.mac(into: mac) { update in
                        content.withUnsafeBytes { bytes in
                            var at = 0
                            while at < bytes.count {
                                let n = min(Int.random(in: 0 ... 200, using: &rng), bytes.count - at)
                                update(UnsafeRawBufferPointer(rebasing: bytes[at ..< at + n]))
                                at += n
                            }
                        }
                    }
                    return AclSignatureText.encode(UnsafeRawBufferPointer(mac))
                }
                #expect(text == expected, "key length \(keyLength), content \(content.count) bytes")
            }
        }
    }

    /// The broker reads `Signature` in place from the decoded header, escaped or not.
    @Test func signatureReadInPlaceFromADecodedHeader() throws {
        var fields: RemotingExtFields = ["topic": "T", "properties": "KEYS\u{1}k\u{2}"]
        AclSigner.sign(&fields, body: nil, accessKey: "ak", secretKey: "sk")
        let signature = try #require(fields["Signature"])
        let key = AclSigningKey("sk")
        // As a client writes it, and escaped (legal JSON: the first character as `\u00XX`, every '/' as `\/`).
        let first = signature.utf8.first!
        let escaped = #"\u00"# + String(first, radix: 16) + signature.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            .joined(separator: #"\/"#)
        for spelled in [signature, escaped] {
            let json = #"{"code":10,"opaque":1,"flag":0,"extFields":{"topic":"T","properties":"KEYS\u0001k\u0002","#
                + #""AccessKey":"ak","Signature":""# + spelled + #""}}"#
            var buffer = ByteBuffer(bytes: Self.frame(Array(json.utf8)))
            let decoded = try #require(try RemotingFrame.read(from: &buffer, frameSizeMax: 1 << 20)).extFields
            #expect(AclSigner.isSignatureValid(decoded, body: nil, key: key))
            #expect(!AclSigner.isSignatureValid(decoded, body: nil, key: AclSigningKey("sk2")))
        }
        fields["Signature"] = nil
        #expect(!AclSigner.isSignatureValid(fields, body: nil, key: key))
        fields["Signature"] = signature + "A"
        #expect(!AclSigner.isSignatureValid(fields, body: nil, key: key))
    }

    /// A RocketMQ frame: total length, header length (JSON serialization), header.
    static func frame(_ header: [UInt8]) -> [UInt8] {
        func be(_ v: Int) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
        return be(4 + header.count) + be(header.count) + header
    }
}
