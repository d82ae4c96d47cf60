import NIOCore
import TernNameServer
import TernProtocol
import TernRemoting
import Testing

/// GET_NAMESRV_CONFIG (319) / UPDATE_NAMESRV_CONFIG (318), as Apache's `mqadmin getNamesrvConfig` /
/// `updateNamesrvConfig` send them (the body is Java's properties text both ways).
@Suite struct NameServerConfigRequestTests {
    @Test func getAnswersThePropertiesInForce() throws {
        var config = NameServerConfig()
        config.listenPort = 9877
        config.idleTimeoutSeconds = 60
        let processor = NameServerProcessor(routes: RouteInfoManager(clock: TestClock().function), config: config)
        let r = processor.process(RemotingCommand(code: 319), connectionId: nil)
        #expect(r.code == ResponseCode.success)
        let text = String(buffer: try #require(r.body))
        #expect(text == """
            clusterTest=false
            listenPort=9877
            orderMessageEnable=false
            serverChannelMaxIdleTimeSeconds=60
            tls.server.mode=disabled

            """)
    }

    /// Java refuses the path keys with NO_PERMISSION; Tern refuses every other key by name; an empty body succeeds.
    @Test func updateRefusesByName() {
        let processor = NameServerProcessor(routes: RouteInfoManager(clock: TestClock().function))
        func update(_ body: String?) -> RemotingCommand {
            processor.process(RemotingCommand(code: 318, body: body.map { ByteBuffer(string: $0) }), connectionId: nil)
        }
        #expect(update("kvConfigPath=/tmp/x\n").code == ResponseCode.noPermission)
        let r = update("# comment\norderMessageEnable=true\n")
        #expect(r.code == ResponseCode.systemError && r.remark?.hasPrefix("orderMessageEnable cannot change") == true)
        #expect(update(nil).code == ResponseCode.success)
    }
}
