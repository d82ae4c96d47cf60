import Foundation
import NIOCore
import Testing
import TernRemoting
@testable import TernSecurity

@Suite struct AclSignerTests {
    /// Vectors computed once with Python's `hmac` (see `pythonSignature`), never with our code.
    @Test func fixedGoldenVectors() {
        // A C++ heartbeat: no header fields but the credentials, a JSON body.
        let heartbeat: RemotingExtFields = ["Signature": "x", "AccessKey": "RocketMQ", "OnsChannel": "ALIYUN"]
        #expect(AclSigner.signature(extFields: heartbeat, body: ByteBuffer(string: #"{"clientID":"127.0.0.1@1"}"#),
                                    secretKey: "12345678") == "OeN/p547crHlgf1FJ3T9dDvqxDo=")
        // A C++ SEND_MESSAGE_V2 header as the decoder renders it (numbers and "0"/"1" booleans as text), in the
        // order C++ writes it; the body has bytes that are not UTF-8.
        var send: RemotingExtFields = [
            "a": "pg", "b": "TopicTest", "c": "TBW102", "d": "4", "e": "1", "f": "0", "g": "1700000000000", "h": "0",
            "i": "KEYS\u{1}k1\u{2}", "j": "0", "k": "0", "l": "0", "m": "0",
        ]
        send["Signature"] = "stale"
        send["AccessKey"] = "RocketMQ"
        send["OnsChannel"] = "ALIYUN"
        send["_UNIQUE_KEY_QUERY"] = "not signed"
        #expect(AclSigner.signature(extFields: send, body: ByteBuffer(bytes: Array("hello ".utf8) + [0xFF, 0x00]),
                                    secretKey: "12345678") == "MKHsU7U1N0ouvwgaAqdvzd6PCzk=")
    }

    /// Random headers (keys of mixed case, digits, non-ASCII values) and bodies, signed by Python and by us.
    @Test func agreesWithPythonOnRandomRequests() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<10 {
            var fields = RemotingExtFields()
            // U+FF5A and U+1F600: UTF-8 (code point) order and Java's UTF-16 order disagree on these two.
            let alphabet = Array("aAbBzZ09_-é中ｚ😀")
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let key = String((0..<Int.random(in: 1...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                fields[key] = String((0..<Int.random(in: 0...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            }
            fields["AccessKey"] = "someAccess"
            fields["Signature"] = "whatever"
            let body = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let secret = "secret-\(Int.random(in: 0...1_000_000, using: &rng))"
            let ours = AclSigner.signature(extFields: fields, body: body.isEmpty ? nil : ByteBuffer(bytes: body),
                                           secretKey: secret)
            #expect(try pythonSignature(fields, body: body, secret: secret) == ours, "\(fields)")
        }
    }

    /// Keys that share their first 8 bytes, a prefix of another key, a NUL: ordered as Java orders them.
    @Test func keysSharingLongPrefixesAgreeWithPython() throws {
        var fields = RemotingExtFields()
        for (i, key) in ["abcdefghZ", "abcdefgh", "abcdefghA", "abcdefgh\u{0}", "a", "ab\u{0}c", "B", "abcdefgh\u{0}\u{0}"]
            .enumerated() { fields[key] = "v\(i)" }
        fields["AccessKey"] = "someAccess"
        let body = Array("body".utf8)
        #expect(try pythonSignature(fields, body: body, secret: "prefix-secret")
                == AclSigner.signature(extFields: fields, body: ByteBuffer(bytes: body), secretKey: "prefix-secret"))
    }

    /// Many values fed run by run (block boundaries fall inside values) and a value of many SHA-1 blocks sign
    /// as Python does.
    @Test func valuesAcrossManyBlocksAgreeWithPython() throws {
        var fields: RemotingExtFields = ["AccessKey": "someAccess"]
        // Lengths around SHA-1's 64-byte blocks.
        let lengths = [1, 63, 64, 65, 200, 255, 256, 257, 3]
        for i in 0..<40 {
            fields["k\(i)"] = String(String(repeating: "x\(i % 10)", count: 300).prefix(lengths[i % lengths.count]))
        }
        fields["huge"] = String(repeating: "h", count: 3 * 1_024 + 7)
        #expect(try pythonSignature(fields, body: [], secret: "chunk-secret")
                == AclSigner.signature(extFields: fields, body: nil, secretKey: "chunk-secret"))
        // Values of exactly the gathered block's size (hashed in one piece) and one byte more (fed run by run).
        for total in [AclSigner.gatheredByteCountMax, AclSigner.gatheredByteCountMax + 1] {
            let edge: RemotingExtFields = ["AccessKey": "ak", "v": String(repeating: "e", count: total - 2)]
            #expect(try pythonSignature(edge, body: [1, 2], secret: "edge-secret")
                    == AclSigner.signature(extFields: edge, body: ByteBuffer(bytes: [1, 2]), secretKey: "edge-secret"))
        }
    }

    /// Values as a JSON header decodes them (read in place from the header bytes: plain ASCII, numbers,
    /// booleans, escapes, non-ASCII) sign as Python signs the same values.
    @Test func decodedJSONHeaderAgreesWithPython() throws {
        let header = #"{"code":310,"language":"CPP","version":0,"opaque":7,"flag":0,"extFields":{"#
            + #""a":"pg","b":"TopicTest","d":4,"g":1700000000000,"h":-12,"e":true,"i":"KEYS\u0001k1\u0002","#
            + #""j":"caf\u00e9 \ud83d\ude00","k":"tab\tquote\"","AccessKey":"RocketMQ","Signature":"x"}}"#
        let body = Array("hello ".utf8) + [0xFF, 0x00]
        var frame = ByteBuffer()
        frame.writeInteger(UInt32(4 + header.utf8.count + body.count))
        frame.writeInteger(UInt32(header.utf8.count))
        frame.writeString(header)
        frame.writeBytes(body)
        var decoder = RemotingFrameDecoder()
        let command = try #require(try decoder.decode(buffer: &frame))
        var expected = RemotingExtFields()
        for (key, value) in command.extFields { expected[key] = value }
        #expect(expected["j"] == "café 😀" && expected["d"] == "4" && expected["e"] == "true")
        let ours = AclSigner.signature(extFields: command.extFields, body: ByteBuffer(bytes: body), secretKey: "12345678")
        #expect(ours == AclSigner.signature(extFields: expected, body: ByteBuffer(bytes: body), secretKey: "12345678"))
        #expect(try pythonSignature(expected, body: body, secret: "12345678") == ours)
    }

    /// Only the canonical spelling of the right MAC passes (Java compares the strings).
    @Test func signatureTextIsCanonicalBase64() {
        var fields: RemotingExtFields = ["topic": "T"]
        AclSigner.sign(&fields, body: nil, accessKey: "ak", secretKey: "sk")
        let good = fields["Signature"]!
        let key = AclSigningKey("sk")
        #expect(good.utf8.count == 28 && good.hasSuffix("=") && !good.hasSuffix("=="))
        #expect(AclSigner.isValid(good, extFields: fields, body: nil, key: key))
        // The 27th character carries 4 data bits and 2 zero bits: setting a zero bit decodes to the same 20
        // bytes under a lax decoder, and must be refused here.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let last = alphabet.firstIndex(of: Array(good)[26])!
        let sameBytes = String(good.dropLast(2)) + String(alphabet[last | 1]) + "="
        for bad in [String(good.dropLast()), good + "=", String(good.dropLast()) + "A", sameBytes,
                    "!" + good.dropFirst(), "", String(repeating: "A", count: 28)] {
            #expect(!AclSigner.isValid(bad, extFields: fields, body: nil, key: key), "\(bad)")
        }
        var random = SystemRandomNumberGenerator()
        for count in 0..<24 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(bytes.withUnsafeBytes(AclSignatureText.encode) == Data(bytes).base64EncodedString())
        }
    }

    /// The table decoder gives back any 20 bytes from their Base64 and refuses a byte outside the alphabet at
    /// any position (including bytes whose table entry would only differ in high bits).
    @Test func decodeRoundTripsAndRefusesForeignBytes() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &random) }
            var text = Array(Data(bytes).base64EncodedString().utf8)
            var decoded = [UInt8](repeating: 0, count: 20)
            let ok = text.withUnsafeBytes { t in decoded.withUnsafeMutableBytes { AclSignatureText.decode(t, into: $0) } }
            #expect(ok && decoded == bytes)
            let position = Int.random(in: 0..<27, using: &random)
            text[position] = [UInt8(ascii: "="), UInt8(ascii: "-"), UInt8(ascii: "_"), 0x80, 0xFF, 0][Int.random(in: 0..<6, using: &random)]
            let foreign = text.withUnsafeBytes { t in decoded.withUnsafeMutableBytes { AclSignatureText.decode(t, into: $0) } }
            #expect(!foreign, "\(text)")
        }
    }

    @Test func signThenValidate() {
        var fields: RemotingExtFields = ["topic": "T", "queueId": "3"]
        let body = ByteBuffer(string: "payload")
        AclSigner.sign(&fields, body: body, accessKey: "ak", secretKey: "sk")
        #expect(fields["AccessKey"] == "ak")
        let signature = fields["Signature"]
        #expect(AclSigner.isValid(signature, extFields: fields, body: body, key: AclSigningKey("sk")))
        #expect(!AclSigner.isValid(signature, extFields: fields, body: body, key: AclSigningKey("sk2")))
        #expect(!AclSigner.isValid(signature, extFields: fields, body: ByteBuffer(string: "payloaD"), key: AclSigningKey("sk")))
        #expect(!AclSigner.isValid(nil, extFields: fields, body: body, key: AclSigningKey("sk")))
        var changed = fields
        changed["queueId"] = "4"
        #expect(!AclSigner.isValid(signature, extFields: changed, body: body, key: AclSigningKey("sk")))
        #expect(!AclSigner.isValid(String(signature!.dropLast()), extFields: fields, body: body, key: AclSigningKey("sk")))
    }

    @Test func constantTimeEquality() {
        #expect(AclSigner.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!AclSigner.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!AclSigner.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!AclSigner.constantTimeEquals([], [0]))
        #expect(AclSigner.constantTimeEquals([], []))
    }
}

/// Base64(HmacSHA1) of the content as Java defines it, computed by python3 (keys sorted by UTF-16 code units).
func pythonSignature(_ fields: RemotingExtFields, body: [UInt8], secret: String) throws -> String {
    let script = """
        import base64, hashlib, hmac, json, sys
        fields = json.loads(sys.argv[1]); body = bytes.fromhex(sys.argv[2]); key = sys.argv[3]
        keys = sorted((k for k in fields if k not in ("Signature", "_UNIQUE_KEY_QUERY")),
                      key=lambda k: k.encode("utf-16-be"))
        content = "".join(fields[k] for k in keys).encode("utf-8") + body
        print(base64.b64encode(hmac.new(key.encode("utf-8"), content, hashlib.sha1).digest()).decode())
        """
    let json = try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0.value) }))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, String(decoding: json, as: UTF8.self),
                         body.map { String(format: "%02x", $0) }.joined(), secret]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
