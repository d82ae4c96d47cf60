import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TernRemoting
import TernTestSupport
import TernTransport
import Testing

/// Echoes the request's `ping` field back.
private struct EchoHandler: RemotingRequestHandler {
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        responder.respond(code: 0, extFields: ["pong": request.extFields["ping"] ?? ""])
    }
}

/// Keeps every log message, so tests can look for the line an operator would read.
final class CapturedLog: Sendable {
    let lines = NIOLockedValueBox<[String]>([])
    var logger: Logger {
        Logger(label: "tls-test") { _ in Handler(log: self) }
    }
    func contains(_ text: String) -> Bool { lines.withLockedValue { $0.contains { $0.contains(text) } } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).map { "\($0)=\($1)" }.sorted().joined(separator: " ")
            log.lines.withLockedValue { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}

@Suite("TLS on a remoting port")
struct TLSPipelineTests {
    private func serverSettings(_ certs: TestCertificates, _ mode: TLSMode, auth: TLSClientAuth = .none) -> TLSServerSettings {
        var s = TLSServerSettings()
        s.mode = mode
        s.certPath = certs.serverCert
        s.keyPath = certs.serverKey
        s.trustCertPath = certs.caCert
        s.needClientAuth = auth
        return s
    }

    private func clientSettings(_ certs: TestCertificates, cert: (String, String)? = nil) -> TLSClientSettings {
        var c = TLSClientSettings()
        c.enabled = true
        c.trustCertPath = certs.caCert
        c.certPath = cert?.0
        c.keyPath = cert?.1
        return c
    }

    private func withServer(
        _ settings: (TestCertificates) -> TLSServerSettings,
        _ body: (TestCertificates, RemotingServer, any EventLoopGroup, CapturedLog) async throws -> Void
    ) async throws {
        let certs = try TestCertificates.make()
        defer { certs.remove() }
        let log = CapturedLog()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: EchoHandler(),
                                                    tls: try settings(certs).makeServer(), logger: log.logger)
        do { try await body(certs, server, group, log) } catch {
            await server.stop(); try await group.shutdownGracefully(); throw error
        }
        await server.stop()
        try await group.shutdownGracefully()
    }

    /// One request over a new connection: the echoed field, or "error: …" when connecting or the request failed.
    private func ping(_ port: Int, _ group: any EventLoopGroup, tls: TLSClientSettings?) async -> String {
        do {
            let client = try tls?.makeClient()
            let c = try await RemotingClient.connect(to: "127.0.0.1:\(port)", group: group, tls: client)
            defer { c.close() }
            let response = try await c.request(RemotingCommand(code: 1, extFields: ["ping": "hello"]), timeout: .seconds(5))
            return response.extFields["pong"] ?? "no pong"
        } catch {
            return "error: \(error)"
        }
    }

    @Test func enforcingServesTLSAndClosesPlainClients() async throws {
        try await withServer({ serverSettings($0, .enforcing) }) { certs, server, group, log in
            #expect(await ping(server.port, group, tls: clientSettings(certs)) == "hello")
            #expect(await ping(server.port, group, tls: nil).hasPrefix("error:"))
            #expect(log.contains("closing plain connection: tls.server.mode is enforcing"))
        }
    }

    @Test func permissiveServesBothOnOnePort() async throws {
        try await withServer({ serverSettings($0, .permissive) }) { certs, server, group, _ in
            #expect(await ping(server.port, group, tls: clientSettings(certs)) == "hello")
            #expect(await ping(server.port, group, tls: nil) == "hello")
        }
    }

    @Test func unknownServerCertificateFailsTheHandshake() async throws {
        // The server presents a certificate from a CA the client does not trust.
        try await withServer({ c in
            var s = serverSettings(c, .enforcing)
            s.certPath = c.rogueCert
            s.keyPath = c.rogueKey
            return s
        }) { certs, server, group, log in
            let refused = await ping(server.port, group, tls: clientSettings(certs))
            #expect(refused.hasPrefix("error: cannot connect") && refused.contains("TLS handshake failed"), "\(refused)")
            #expect(await eventually(5) { log.contains("TLS handshake failed") })
            // Test mode accepts any certificate, as RocketMQ's tls.test.mode.enable does.
            var testMode = clientSettings(certs)
            testMode.testMode = true
            #expect(await ping(server.port, group, tls: testMode) == "hello")
        }
    }

    @Test func requiredClientAuthRefusesClientsWithoutAValidCertificate() async throws {
        try await withServer({ serverSettings($0, .enforcing, auth: .require) }) { certs, server, group, log in
            #expect(await ping(server.port, group, tls: clientSettings(certs)).hasPrefix("error:"))
            #expect(await eventually(5) { log.contains("TLS handshake failed") })
            #expect(await ping(server.port, group, tls: clientSettings(certs, cert: (certs.rogueCert, certs.rogueKey))).hasPrefix("error:"))
            let trusted = clientSettings(certs, cert: (certs.clientCert, certs.clientKey))
            #expect(await ping(server.port, group, tls: trusted) == "hello")
        }
    }

    @Test func optionalClientAuthAcceptsClientsWithoutACertificate() async throws {
        try await withServer({ serverSettings($0, .enforcing, auth: .optional) }) { certs, server, group, _ in
            #expect(await ping(server.port, group, tls: clientSettings(certs)) == "hello")
            let trusted = clientSettings(certs, cert: (certs.clientCert, certs.clientKey))
            #expect(await ping(server.port, group, tls: trusted) == "hello")
            #expect(await ping(server.port, group, tls: clientSettings(certs, cert: (certs.rogueCert, certs.rogueKey))).hasPrefix("error:"))
        }
    }

    @Test func opensslClientCompletesAHandshake() async throws {
        try await withServer({ serverSettings($0, .enforcing) }) { certs, server, _, _ in
            let out = try OpenSSLClient.handshake(port: server.port, caFile: certs.caCert)
            #expect(out.contains("Verify return code: 0 (ok)"), "\(out)")
        }
    }
}
