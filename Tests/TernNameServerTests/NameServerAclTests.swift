import Foundation
import Logging
import NIOPosix
import TernBroker
import TernNameServer
import TernProtocol
import TernRemoting
import TernSecurity
import TernTransport
import Testing

/// A name server with a `plain_acl.yml`: route changes need an admin signature; lookups stay open; a broker
/// with ACL on signs its registrations with the file's admin account.
@Suite struct NameServerAclTests {
    static let acl = """
        accounts:
          - {accessKey: operator1, secretKey: operator-secret, admin: true}
          - {accessKey: producer1, secretKey: producer-secret, defaultTopicPerm: PUB}

        """

    static func start() async throws -> (NameServerFixture, String) {
        let path = NSTemporaryDirectory() + "tern-ns-acl-\(UUID().uuidString).yml"
        try acl.write(toFile: path, atomically: true, encoding: .utf8)
        var config = NameServerConfig()
        config.listenHost = "127.0.0.1"
        config.listenPort = 0
        config.aclFilePath = path
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await NameServer.start(config: config, group: group, logger: Logger(label: "test.namesrv"))
        return (NameServerFixture(group: group, server: server), path)
    }

    @Test func routeChangesNeedAnAdminSignature() async throws {
        let (ns, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let register = registerRequest(addr: "10.9.9.9:10911", topics: [TopicConfig(topicName: "TBW102")])
        let unsigned = try await ns.call(register)
        #expect(unsigned.code == ResponseCode.noPermission)
        #expect(unsigned.remark == "No accessKey is configured")
        let normal = try await ns.call(AclCredentials(accessKey: "producer1", secretKey: "producer-secret").signed(register))
        #expect(normal.remark == "Need admin permission for request code=103, but accessKey=producer1 is not")
        let forged = try await ns.call(AclCredentials(accessKey: "operator1", secretKey: "guessed-secret").signed(register))
        #expect(forged.code == ResponseCode.noPermission)
        #expect(try await ns.route("TBW102") == nil, "a refused registration changed a route")

        let admin = AclCredentials(accessKey: "operator1", secretKey: "operator-secret")
        // Kept open: a broker's registration lasts while its connection does.
        let brokerConnection = try await RemotingClient.connect(to: ns.address, group: ns.group)
        #expect(try await ns.call(admin.signed(register), on: brokerConnection).code == ResponseCode.success)
        #expect(try await ns.route("TBW102") != nil, "route lookups need no signature")

        let delete = RemotingCommand(code: 216, extFields: ["topic": "TBW102"])
        #expect(try await ns.call(delete).code == ResponseCode.noPermission)
        let unregister = RemotingCommand(code: RequestCode.unregisterBroker, extFields: [
            "brokerName": "broker-a", "brokerAddr": "10.9.9.9:10911", "clusterName": "DefaultCluster", "brokerId": "0",
        ])
        #expect(try await ns.call(unregister).code == ResponseCode.noPermission)
        #expect(try await ns.route("TBW102") != nil)
        #expect(try await ns.call(admin.signed(delete)).code == ResponseCode.success)
        #expect(try await ns.route("TBW102") == nil)
        brokerConnection.close()
        await ns.stop()
    }

    /// As on the broker: every 16 consecutive refusals on one connection pause its reads for a doubling delay
    /// (1, 2, 4 … ms). Every forged registration is still answered and changes nothing; an admin-signed one on
    /// the same connection then succeeds; another connection's route lookups are answered meanwhile.
    @Test func forgedRegistrationsOnOneConnectionAreReadMoreSlowly() async throws {
        let (ns, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let register = registerRequest(addr: "10.9.9.9:10911", topics: [TopicConfig(topicName: "TBW102")])
        let forged = AclCredentials(accessKey: "operator1", secretKey: "guessed-secret").signed(register)
        let flooder = try await RemotingClient.connect(to: ns.address, group: ns.group)
        let start = ContinuousClock.now
        for _ in 0..<(8 * RefusalBackoff.threshold) {
            #expect(try await ns.call(forged, on: flooder).code == ResponseCode.noPermission)
        }
        // Pauses after refusals 16, 32, … 112 were waited: 1 + 2 + … + 64 ms.
        #expect(ContinuousClock.now - start >= .milliseconds(127))
        #expect(try await ns.route("TBW102") == nil, "a refused registration changed a route")
        let admin = AclCredentials(accessKey: "operator1", secretKey: "operator-secret")
        #expect(try await ns.call(admin.signed(register), on: flooder).code == ResponseCode.success)
        #expect(try await ns.route("TBW102") != nil)
        flooder.close()
        await ns.stop()
    }

    @Test func brokerWithAclSignsItsRegistrations() async throws {
        let (ns, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let dir = NSTemporaryDirectory() + "tern-ns-acl-broker-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = BrokerConfig()
        config.storePathRootDir = dir
        config.listenHost = "127.0.0.1"
        config.listenPort = 0
        config.mappedFileSizeCommitLog = 64 << 20
        config.namesrvAddr = [ns.address]
        config.aclEnable = true
        config.aclFilePath = path
        let broker = try await Broker.start(config: config, group: ns.group, logger: Logger(label: "test.broker"))
        #expect(try await eventually { try await ns.route("TBW102") != nil })
        await broker.shutdown()
        await ns.stop()
    }
}
