import Testing
@testable import TernSecurity

/// The shape of RocketMQ's distribution/conf/plain_acl.yml (4.9.x), with its comments and empty values.
let distributionExample = """
    # Licensed to the Apache Software Foundation (ASF) under one or more contributor license agreements.

    globalWhiteRemoteAddresses:
      - 10.10.103.*
      - 192.168.0.*

    accounts:
      - accessKey: RocketMQ
        secretKey: 12345678
        whiteRemoteAddress:
        admin: false
        defaultTopicPerm: DENY
        defaultGroupPerm: SUB
        topicPerms:
          - topicA=DENY
          - topicB=PUB|SUB
          - topicC=SUB
        groupPerms:
          # the group should convert to retry topic
          - groupA=DENY
          - groupB=PUB|SUB
          - groupC=SUB

      - accessKey: rocketmq2
        secretKey: 12345678
        whiteRemoteAddress: 192.168.1.*
        # if it is admin, it could access all resources
        admin: true

    """

@Suite struct PlainAclConfigTests {
    @Test func parsesTheDistributionExample() throws {
        let config = try PlainAclConfig(yaml: distributionExample)
        #expect(config.globalWhiteRemoteAddresses == [
            .range(head: "10.10.103", index: 3, bounds: 0...255, ipv6: false),
            .range(head: "192.168.0", index: 3, bounds: 0...255, ipv6: false),
        ])
        #expect(config.accounts.count == 2)
        let first = try #require(config.accounts["RocketMQ"])
        #expect(first.secretKey == "12345678")  // a YAML integer, read as its text
        #expect(first.whiteRemoteAddress == .none)
        #expect(!first.isAdmin)
        #expect(first.defaultTopicPermission == .deny)
        #expect(first.defaultGroupPermission == .sub)
        #expect(first.resourcePermissions == [
            "topicA": .deny, "topicB": [.pub, .sub], "topicC": .sub,
            "%RETRY%groupA": .deny, "%RETRY%groupB": [.pub, .sub], "%RETRY%groupC": .sub,
        ])
        let admin = try #require(config.accounts["rocketmq2"])
        #expect(admin.isAdmin)
        #expect(admin.whiteRemoteAddress.matches("192.168.1.77"))
        #expect(admin.defaultTopicPermission == .deny)  // not given: DENY, as Java
        #expect(admin.resourcePermissions.isEmpty)
    }

    @Test func permissionsParseAsJavaDoes() {
        #expect(AclPermission(parsing: "PUB") == .pub)
        #expect(AclPermission(parsing: " SUB ") == .sub)
        #expect(AclPermission(parsing: "PUB|SUB") == [.pub, .sub])
        #expect(AclPermission(parsing: "SUB|PUB") == [.pub, .sub])
        #expect(AclPermission(parsing: "DENY") == .deny)
        #expect(AclPermission(parsing: "pub") == .deny)  // case matters in Java
        #expect(AclPermission(parsing: nil) == .deny)
        #expect(AclPermission(parsing: "PUB | SUB") == .deny)
    }

    @Test func permissionChecks() {
        #expect(AclPermission.pub.allows(.pub))
        #expect(!AclPermission.pub.allows(.sub))
        #expect(!AclPermission.sub.allows(.pub))
        #expect(AclPermission([.pub, .sub]).allows(.sub))
        #expect(!AclPermission.deny.allows(.pub))
        #expect(!AclPermission([.deny, .pub]).allows(.pub))
        #expect(AclPermission.sub.allows(.any))
        #expect(!AclPermission.deny.allows(.any))
    }

    @Test func refusesWhatJavaRefuses() {
        #expect(throws: AclConfigError.badCredentials(accessKey: "short")) {
            try PlainAclConfig(yaml: "accounts:\n  - accessKey: short\n    secretKey: 12345678\n")
        }
        #expect(throws: AclConfigError.badCredentials(accessKey: "longenough")) {
            try PlainAclConfig(yaml: "accounts:\n  - accessKey: longenough\n")
        }
        #expect(throws: AclConfigError.badResourcePermission("topicA")) {
            try PlainAclConfig(yaml: "accounts:\n  - {accessKey: longenough, secretKey: 12345678, topicPerms: [topicA]}\n")
        }
        #expect(throws: AclConfigError.badAddress("300.1.1.1")) {
            try PlainAclConfig(yaml: "globalWhiteRemoteAddresses: [300.1.1.1]\n")
        }
        #expect(throws: AclConfigError.self) { try PlainAclConfig(yaml: "accounts: [\n") }
        #expect(throws: AclConfigError.self) { try PlainAclConfig(yaml: "- just\n- a list\n") }
    }

    @Test func laterAccountWithTheSameKeyWinsAndUnknownKeysAreIgnored() throws {
        let config = try PlainAclConfig(yaml: """
            dataVersion:
              - {counter: 1, timestamp: 1}
            accounts:
              - {accessKey: sameKey1, secretKey: first1234, admin: true}
              - {accessKey: sameKey1, secretKey: second123, admin: false}
            """)
        #expect(config.accounts["sameKey1"]?.secretKey == "second123")
        #expect(config.accounts["sameKey1"]?.isAdmin == false)
        #expect(try PlainAclConfig(yaml: "").accounts.isEmpty)
    }
}

@Suite struct RemoteAddressPatternTests {
    @Test(arguments: [
        // pattern, address, matches
        ("*", "1.2.3.4", true), ("*.*.*.*", "1.2.3.4", true), ("*:*:*:*:*:*:*:*", "::1", true),
        ("", "1.2.3.4", false),
        ("192.168.1.1", "192.168.1.1", true), ("192.168.1.1", "192.168.1.2", false),
        ("192.168.1.*", "192.168.1.200", true), ("192.168.1.*", "192.168.2.1", false),
        ("192.168.1.*", "192.168.10.1", false),
        ("192.168.*.*", "192.168.77.1", true), ("10.*.*.*", "10.1.2.3", true), ("10.*.*.*", "11.1.2.3", false),
        ("192.168.1.1-5", "192.168.1.5", true), ("192.168.1.1-5", "192.168.1.6", false),
        ("192.168.1.1-5", "192.168.1.0", false),
        ("192.168.2-3.*", "192.168.3.9", true), ("192.168.2-3.*", "192.168.4.9", false),
        ("192.168.1.{1,2,3}", "192.168.1.2", true), ("192.168.1.{1,2,3}", "192.168.1.4", false),
        ("1.1.1.1,2.2.2.2", "2.2.2.2", true), ("1.1.1.1,2.2.2.2", "3.3.3.3", false),
        ("::1", "::1", true), ("::1", "0:0:0:0:0:0:0:1", true), ("::1", "::2", false),
        ("2001:db8::{a,b}", "2001:DB8::B", true), ("2001:db8::{a,b}", "2001:db8::c", false),
        ("2001:db8::1,2001:db8::2", "2001:db8:0:0:0:0:0:2", true),
        ("2001:db8:1:2:3:4:5:*", "2001:db8:1:2:3:4:5:ffff", true),
        ("2001:db8:1:2:3:4:5:*", "2001:db8:1:2:3:4:6:1", false),
        ("2001:db8:1:2:3:4:5:1-ff", "2001:db8:1:2:3:4:5:a0", true),
        ("2001:db8:1:2:3:4:5:1-ff", "2001:db8:1:2:3:4:5:100", false),
        ("192.168.1.*", "::1", false), ("::1", "127.0.0.1", false),
    ])
    func matches(pattern: String, address: String, expected: Bool) throws {
        #expect(try RemoteAddressPattern(parsing: pattern).matches(address) == expected)
    }

    @Test(arguments: ["1.2.3", "1.2.3.256", "1.2.3.4-", "1.2.3.5-1", "1.2.3.-5", "a.b.c.d", "1.2.{3,4}", "1.2.3.{4,x}",
                      "1.2.3.4,5.6.7", "01.2.3.4", "2001:db8:*:1", "2001::g"])
    func refuses(pattern: String) {
        #expect(throws: AclConfigError.badAddress(pattern)) { try RemoteAddressPattern(parsing: pattern) }
    }
}
