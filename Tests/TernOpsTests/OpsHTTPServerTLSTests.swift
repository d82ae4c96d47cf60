import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import TernTestSupport
import TernTransport
import Testing
@testable import TernOps

/// The ops port under the process's `tls.server.*` keys, driven by a real `curl`.
@Suite struct OpsHTTPServerTLSTests {
    @Test(arguments: [TLSMode.enforcing, .permissive])
    func servesHTTPSAndHonoursTheMode(_ mode: TLSMode) async throws {
        let certs = try TestCertificates.make()
        defer { certs.remove() }
        var settings = TLSServerSettings()
        settings.mode = mode
        settings.certPath = certs.serverCert
        settings.keyPath = certs.serverKey
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(descriptor: PrometheusCollectorRegistry.descriptor("tern_tls_test_total", "test"))
        counter.increment()
        let logger = Logger(label: "test.ops.tls")
        let server = OpsHTTPServer(host: "127.0.0.1", port: 0, routes: [MetricsEndpoint(registry)],
                                   tls: try settings.makeServer(), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let run = Task { try await group.run() }
        defer { run.cancel() }
        let port = try #require(await server.listening())

        let https = try await curl(["--cacert", certs.caCert, "https://127.0.0.1:\(port)/metrics"])
        #expect(https.status == 0)
        #expect(https.output.contains("tern_tls_test_total 1"))
        // A certificate from another CA is refused by the client: the server really presents its own.
        #expect(try await curl(["--cacert", certs.directory + "/rogue-ca.pem", "https://127.0.0.1:\(port)/metrics"]).status != 0)
        let plain = try await curl(["http://127.0.0.1:\(port)/metrics"])
        if mode == .enforcing {
            #expect(plain.status != 0)
            #expect(!plain.output.contains("tern_tls_test_total"))
        } else {
            #expect(plain.status == 0)
            #expect(plain.output.contains("tern_tls_test_total 1"))
        }
        await group.triggerGracefulShutdown()
        try await run.value
    }

    /// Runs curl on a Dispatch thread: waiting for it on the cooperative pool would starve the server's own
    /// request tasks (two cores, two cooperative threads, two cases in parallel).
    private func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                process.arguments = ["-s", "--max-time", "10"] + arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                do { try process.run() } catch { return continuation.resume(throwing: error) }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }
        }
    }
}
