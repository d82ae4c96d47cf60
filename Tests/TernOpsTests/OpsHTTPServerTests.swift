import Logging
import NIOPosix
import Prometheus
import ServiceLifecycle
import Testing
@testable import TernOps

/// The ops HTTP server over loopback, run in a ServiceGroup as a process runs it.
@Suite struct OpsHTTPServerTests {
    @Test func servesMetricsAndStopsWithItsGroup() async throws {
        let registry = PrometheusCollectorRegistry()
        let endpoint = MetricsEndpoint(registry)
        let counter = registry.makeCounter(descriptor: PrometheusCollectorRegistry.descriptor("tern_test_total", "test"))
        endpoint.onScrape { counter.increment() }
        let server = OpsHTTPServer(host: "127.0.0.1", port: 0, routes: [endpoint], logger: Logger(label: "test.ops"))
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test.ops")))
        let run = Task { try await group.run() }
        let port = try #require(await server.listening())
        let first = try await HTTPGet.get(port: port, path: "/metrics")
        #expect(first.status == 200)
        #expect(first.headers.lowercased().contains("content-type: text/plain; version=0.0.4"))
        #expect(sample(first.body, "tern_test_total") == 1)
        #expect(sample(try await HTTPGet.get(port: port, path: "/metrics").body, "tern_test_total") == 2)
        #expect(try await HTTPGet.get(port: port, path: "/nothing").status == 404)
        await group.triggerGracefulShutdown()
        try await run.value
    }

    @Test func portInUseFailsStartupNamingTheAddress() async throws {
        let logger = Logger(label: "test.ops")
        let first = OpsHTTPServer(host: "127.0.0.1", port: 0, routes: [], logger: logger)
        let group = ServiceGroup(configuration: .init(services: [first], logger: logger))
        let run = Task { try await group.run() }
        let port = try #require(await first.listening())
        let second = OpsHTTPServer(host: "127.0.0.1", port: port, routes: [], logger: logger)
        await #expect(throws: OpsServerError.self) { try await second.checkAvailable(group: MultiThreadedEventLoopGroup.singleton) }
        do {
            try await second.run()
            Issue.record("a second server bound a port in use")
        } catch let error as OpsServerError {
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(error.description.contains("metricsPromExporterPort"))
        }
        await group.triggerGracefulShutdown()
        try await run.value
    }
}
