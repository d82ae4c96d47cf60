#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import TernBroker
import TernRemoting
import TernTransport
import Testing

/// RocketMQ's VIP channel (`listenPort - 2`): an Apache 4.9 SLAVE asks its master's VIP port, and only that port,
/// for GET_ALL_TOPIC_CONFIG (`BrokerOuterAPI.getAllTopicConfig` with `brokerVIPChannel(true, addr)`), so a Tern
/// master must answer there exactly as on its main port.
@Suite struct VIPChannelTests {
    @Test func apacheSlaveTopicSyncIsAnsweredOnListenPortMinusTwo() async throws {
        let probe = MultiThreadedEventLoopGroup.singleton
        // The HA port would default to listenPort + 1, which the probe does not hold: ephemeral here. Another
        // test may still take P or P - 2 between the probe and the bind, so a lost race probes again.
        var started: (port: Int, fixture: BrokerFixture)?
        for attempt in 1...5 where started == nil {
            let port = try await Self.portPair(probe)
            do {
                started = (port, try await BrokerFixture.start { $0.listenPort = port; $0.haListenPort = 0 })
            } catch let error as IOError where error.errnoCode == EADDRINUSE && attempt < 5 {
                continue
            }
        }
        guard let started else { throw ChannelError.inputClosed }
        let (port, f) = started
        let created = try await f.call(RequestCode.updateAndCreateTopic,
                                       AdminProcessorTests.createFields("VIP_T", read: 4, write: 4, perm: 6))
        #expect(created.code == ResponseCode.success)
        let vip = try await RemotingClient.connect(to: "127.0.0.1:\(port - 2)", group: f.group)
        let answer = try await f.call(RequestCode.getAllTopicConfig, on: vip)
        vip.close()
        #expect(answer.code == ResponseCode.success)
        let body = answer.body.map { String(buffer: $0) } ?? ""
        #expect(body.contains("\"VIP_T\""), "\(body.prefix(300))")
        await f.stop()
        // Stopped with the broker: no listener holds the port any more. SO_REUSEADDR: a connection the broker
        // closed first may leave the port in TIME_WAIT, which is not a listener.
        let rebound = try await ServerBootstrap(group: probe)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port - 2).get()
        try await rebound.close()
    }

    /// A port P with P and P - 2 both free now.
    static func portPair(_ group: any EventLoopGroup) async throws -> Int {
        for _ in 0..<50 {
            let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
            let port = channel.localAddress?.port ?? 0
            let low = try? await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: port - 2).get()
            try await channel.close()
            if let low {
                try await low.close()
                return port
            }
        }
        throw ChannelError.inputClosed
    }
}
