import Foundation
import Logging
import NIOCore
import NIOPosix
import TernBroker
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// A broker on 127.0.0.1:<free port> over a fresh temporary store, plus raw remoting connections to it.
/// No name server: registration is off (empty `namesrvAddr`).
final class BrokerFixture: Sendable {
    let group: MultiThreadedEventLoopGroup
    let broker: Broker
    let storeDir: String

    var address: String { "127.0.0.1:\(broker.port)" }

    /// `configure` adjusts the config before start (flush mode, limits...). The store lives in a new temp dir
    /// unless `storeDir` names one (restart tests).
    static func start(storeDir: String? = nil, configure: (inout BrokerConfig) -> Void = { _ in }) async throws -> BrokerFixture {
        let dir = storeDir ?? NSTemporaryDirectory() + "tern-broker-\(UUID().uuidString)"
        var config = BrokerConfig()
        config.storePathRootDir = dir
        config.listenHost = "127.0.0.1"
        config.listenPort = 0
        config.mappedFileSizeCommitLog = 64 << 20
        configure(&config)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            let broker = try await Broker.start(config: config, group: group, logger: Logger(label: "test.broker"))
            // The store's threads start when its lifecycle service runs (a task); helpers such as `put` then block
            // a thread waiting for dispatch, which with parallel suites could starve that task. Wait for it here.
            let deadline = ContinuousClock.now + .seconds(10)
            while !broker.store.isStarted, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(broker.store.isStarted)
            return BrokerFixture(group: group, broker: broker, storeDir: dir)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(group: MultiThreadedEventLoopGroup, broker: Broker, storeDir: String) {
        self.group = group
        self.broker = broker
        self.storeDir = storeDir
    }

    func connect() async throws -> RemotingConnection {
        try await RemotingClient.connect(to: address, group: group)
    }

    /// One request with `extFields` (and body) on a new or given connection; returns the response.
    func call(_ code: Int, _ fields: RemotingExtFields = [:], body: ByteBuffer? = nil, on connection: RemotingConnection? = nil,
              timeout: TimeAmount = .seconds(5)) async throws -> RemotingCommand {
        let c: RemotingConnection
        if let connection { c = connection } else { c = try await connect() }
        defer { if connection == nil { c.close() } }
        return try await c.request(RemotingCommand(code: code, language: .cpp, version: 64, extFields: fields, body: body), timeout: timeout)
    }

    /// Stops the broker; removes the store unless `keepStore`.
    func stop(keepStore: Bool = false) async {
        await broker.shutdown()
        try? await group.shutdownGracefully()
        if !keepStore { try? FileManager.default.removeItem(atPath: storeDir) }
    }
}
