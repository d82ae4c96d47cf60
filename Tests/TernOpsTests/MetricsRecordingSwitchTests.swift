import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TernBroker
import TernClient
import TernOps
import TernProtocol
import TernRemoting
import TernStorage

/// SET_METRICS_RECORDING (benchmarks' runtime switch): sends while paused are stored but not counted, counting
/// resumes exactly, and a broker without `metricsRecordingToggleEnable` does not serve the code.
@Suite struct MetricsRecordingSwitchTests {
    private static func broker(_ dir: String, toggle: Bool, group: any EventLoopGroup) async throws -> (Broker, ClientRuntime) {
        let (_, broker, runtime) = try await BrokerMetricsTests.metricsBroker(dir, topic: "RS", group: group) { config in
            if toggle { _ = try config.metrics.set("metricsRecordingToggleEnable", "true") }
        }
        return (broker, runtime)
    }

    private static func setRecording(_ on: Bool, _ runtime: ClientRuntime, _ broker: Broker) async throws -> RemotingCommand {
        try await runtime.invoke("127.0.0.1:\(broker.port)", RemotingCommand(
            code: MetricsRequestCode.setMetricsRecording, extFields: ["recording": String(on)])).get()
    }

    @Test func pausedSendsAreStoredButNotCounted() async throws {
        let dir = NSTemporaryDirectory() + "tern-metrics-switch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let (broker, runtime) = try await Self.broker(dir, toggle: true, group: group)
        let port = try #require(await broker.ops?.listening())
        let producer = Producer(runtime: runtime)
        for i in 0..<3 { _ = try await producer.send(topic: "RS", body: Array("counted \(i)".utf8)) }

        let paused = try await Self.setRecording(false, runtime, broker)
        #expect(paused.code == ResponseCode.success)
        #expect(paused.extFields["recording"] == "false")
        let offsetAtPause = try #require(paused.extFields.int64("storeMaxOffset"))
        #expect(offsetAtPause == broker.store.maxPhysicalOffset)
        for i in 0..<4 { _ = try await producer.send(topic: "RS", body: Array("not counted \(i)".utf8)) }
        let pausedText = try await HTTPGet.get(port: port, path: "/metrics").body
        #expect(sample(pausedText, "rocketmq_messages_in_total", ["topic": "RS"]) == 3)

        let resumed = try await Self.setRecording(true, runtime, broker)
        #expect(resumed.extFields["recording"] == "true")
        #expect(try #require(resumed.extFields.int64("storeMaxOffset")) > offsetAtPause)
        for i in 0..<2 { _ = try await producer.send(topic: "RS", body: Array("counted again \(i)".utf8)) }
        let text = try await HTTPGet.get(port: port, path: "/metrics").body
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "RS"]) == 5)
        #expect(broker.store.maxPhysicalOffset > offsetAtPause)

        runtime.shutdown()
        await broker.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func brokerWithoutTheKeyDoesNotServeTheSwitch() async throws {
        let dir = NSTemporaryDirectory() + "tern-metrics-switch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (broker, runtime) = try await Self.broker(dir, toggle: false, group: group)
        let port = try #require(await broker.ops?.listening())
        let answer = try await Self.setRecording(false, runtime, broker)
        #expect(answer.code == ResponseCode.requestCodeNotSupported)
        _ = try await Producer(runtime: runtime).send(topic: "RS", body: Array("counted".utf8))
        let text = try await HTTPGet.get(port: port, path: "/metrics").body
        #expect(sample(text, "rocketmq_messages_in_total", ["topic": "RS"]) == 1)

        runtime.shutdown()
        await broker.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func configKeyParses() throws {
        var config = MetricsExporterConfig()
        #expect(config.recordingToggleEnable == false)
        #expect(try config.set("metricsRecordingToggleEnable", "TRUE"))
        #expect(config.recordingToggleEnable)
        #expect(throws: MetricsConfigError.self) { _ = try config.set("metricsRecordingToggleEnable", "yes") }
    }
}
