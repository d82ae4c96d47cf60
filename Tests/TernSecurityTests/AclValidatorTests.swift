import NIOCore
import Testing
import TernRemoting
@testable import TernSecurity

@Suite struct AclValidatorTests {
    let config: PlainAclConfig

    init() throws { config = try PlainAclConfig(yaml: distributionExample) }

    func signed(_ fields: RemotingExtFields, key: String = "RocketMQ", secret: String = "12345678",
                body: ByteBuffer? = nil) -> RemotingExtFields {
        var fields = fields
        AclSigner.sign(&fields, body: body, accessKey: key, secretKey: secret)
        return fields
    }

    func verdict(_ fields: RemotingExtFields, ip: String = "127.0.0.1", body: ByteBuffer? = nil, code: Int = 310,
                 _ requirement: AclRequirement) -> AclVerdict {
        config.validate(remoteAddress: ip + ":4242", extFields: fields, body: body, code: code, requirement: { requirement })
    }

    @Test func signatureAndKeyChecks() {
        let pub = AclRequirement(resources: [("topicB", .pub)])
        #expect(verdict(signed(["b": "topicB"]), pub) == .allowed)
        #expect(verdict(["b": "topicB"], pub) == .denied("No accessKey is configured"))
        #expect(verdict(signed(["b": "topicB"], key: "nobody12"), pub) == .denied("No acl config for nobody12"))
        #expect(verdict(signed(["b": "topicB"], secret: "wrong-secret"), pub)
                == .denied("Check signature failed for accessKey=RocketMQ"))
        var tampered = signed(["b": "topicB"])
        tampered["b"] = "topicC"
        #expect(verdict(tampered, pub) == .denied("Check signature failed for accessKey=RocketMQ"))
        // C++ without credentials: an empty AccessKey.
        #expect(verdict(["b": "topicB", "AccessKey": "", "Signature": "x"], pub) == .denied("No acl config for "))
    }

    /// `AccessKey` is looked up by its bytes in place: a key longer than a small string, an escaped one, a
    /// prefix and an extension of a configured key.
    @Test func accessKeysLookedUpByTheirBytes() throws {
        let long = "an-access-key-longer-than-15-bytes", secret = "secret-of-the-long-key"
        let config = try PlainAclConfig(yaml: """
            accounts:
              - accessKey: \(long)
                secretKey: \(secret)
                admin: true
              - accessKey: "key\\u00e9\\u0001xyz"
                secretKey: 12345678
                admin: true
            """)
        func verdict(_ fields: RemotingExtFields) -> AclVerdict {
            config.validate(remoteAddress: "127.0.0.1:1", extFields: fields, body: nil, code: 310) { AclRequirement() }
        }
        #expect(verdict(signed(["b": "t"], key: long, secret: secret)) == .allowed)
        #expect(verdict(signed(["b": "t"], key: "key\u{e9}\u{1}xyz")) == .allowed)
        #expect(verdict(signed(["b": "t"], key: String(long.dropLast()), secret: secret))
                == .denied("No acl config for \(long.dropLast())"))
        #expect(verdict(signed(["b": "t"], key: long + "x", secret: secret)) == .denied("No acl config for \(long)x"))
        // As decoded from a header, the escaped key read in pieces.
        let fields = signed(["b": "t"], key: "key\u{e9}\u{1}xyz")
        let json = #"{"code":310,"opaque":1,"flag":0,"extFields":{"b":"t","AccessKey":"key\u00e9\u0001xyz","Signature":""#
            + fields["Signature"]! + #""}}"#
        var buffer = ByteBuffer(bytes: AclSigningKeyTests.frame(Array(json.utf8)))
        let decoded = try #require(try RemotingFrame.read(from: &buffer, frameSizeMax: 1 << 20)).extFields
        #expect(verdict(decoded) == .allowed)
    }

    @Test func permissionsPerResource() {
        let fields = signed(["b": "t"])
        #expect(verdict(fields, AclRequirement(resources: [("topicC", .sub)])) == .allowed)
        #expect(verdict(fields, AclRequirement(resources: [("topicC", .pub)]))
                == .denied("No PUB permission for topic topicC, accessKey=RocketMQ"))
        #expect(verdict(fields, AclRequirement(resources: [("topicA", .sub)])) != .allowed)
        // Unlisted topic: defaultTopicPerm DENY; unlisted group: defaultGroupPerm SUB.
        #expect(verdict(fields, AclRequirement(resources: [("other", .sub)])) != .allowed)
        #expect(verdict(fields, AclRequirement(resources: [("%RETRY%other", .sub)])) == .allowed)
        #expect(verdict(fields, AclRequirement(resources: [("%RETRY%groupA", .sub)]))
                == .denied("No SUB permission for group groupA, accessKey=RocketMQ"))
        // Publishing traces needs no topic permission.
        #expect(verdict(fields, AclRequirement(resources: [("RMQ_SYS_TRACE_TOPIC", .pub)])) == .allowed)
    }

    @Test func adminCodes() throws {
        let fields = signed(["topic": "x"])
        #expect(verdict(fields, code: 215, AclRequirement(needsAdmin: true))
                == .denied("Need admin permission for request code=215, but accessKey=RocketMQ is not"))
        let admin = signed(["topic": "x"], key: "rocketmq2")
        #expect(verdict(admin, code: 215, AclRequirement(needsAdmin: true)) == .allowed)
        #expect(verdict(admin, AclRequirement(resources: [("anything", .pub)])) == .allowed)
    }

    @Test func whiteAddressesSkipSignatures() {
        let unsigned: RemotingExtFields = ["b": "topicA"]
        let forbidden = AclRequirement(needsAdmin: true, resources: [("topicA", .pub)])
        // Global white list: no key needed at all.
        #expect(verdict(unsigned, ip: "10.10.103.9", forbidden) == .allowed)
        #expect(verdict(unsigned, ip: "10.10.104.9", forbidden) == .denied("No accessKey is configured"))
        // An account's white address: the key must exist, nothing else is checked.
        var keyOnly = unsigned
        keyOnly["AccessKey"] = "rocketmq2"
        #expect(verdict(keyOnly, ip: "192.168.1.3", forbidden) == .allowed)
        #expect(verdict(keyOnly, ip: "192.168.2.3", forbidden) == .denied("Check signature failed for accessKey=rocketmq2"))
    }
}
