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
            let alphabet = Array("aAbBzZ09_-é中")
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

    @Test func signThenValidate() {
        var fields: RemotingExtFields = ["topic": "T", "queueId": "3"]
        let body = ByteBuffer(string: "payload")
        AclSigner.sign(&fields, body: body, accessKey: "ak", secretKey: "sk")
        #expect(fields["AccessKey"] == "ak")
        let signature = fields["Signature"]
        #expect(AclSigner.isValid(signature, extFields: fields, body: body, secretKey: "sk"))
        #expect(!AclSigner.isValid(signature, extFields: fields, body: body, secretKey: "sk2"))
        #expect(!AclSigner.isValid(signature, extFields: fields, body: ByteBuffer(string: "payloaD"), secretKey: "sk"))
        #expect(!AclSigner.isValid(nil, extFields: fields, body: body, secretKey: "sk"))
        var changed = fields
        changed["queueId"] = "4"
        #expect(!AclSigner.isValid(signature, extFields: changed, body: body, secretKey: "sk"))
        #expect(!AclSigner.isValid(String(signature!.dropLast()), extFields: fields, body: body, secretKey: "sk"))
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
