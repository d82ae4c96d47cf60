import Foundation
import TernTestSupport
import TernTransport
import Testing

@Suite("TLS configuration")
struct TLSConfigTests {
    @Test func parsesRocketMQKeys() throws {
        var c = TLSConfig()
        let keys = [
            ("tls.server.mode", "Enforcing"), ("tls.server.certPath", "/s.pem"), ("tls.server.keyPath", "/s.key"),
            ("tls.server.keyPassword", "pw"), ("tls.server.trustCertPath", "/ca.pem"),
            ("tls.server.need.client.auth", "require"), ("tls.enable", "true"), ("tls.client.certPath", "/c.pem"),
            ("tls.client.keyPath", "/c.key"), ("tls.client.keyPassword", "cpw"), ("tls.client.trustCertPath", "/ca2.pem"),
            ("tls.client.authServer", "false"), ("tls.test.mode.enable", "true"), ("tls.config.file", "/tls.properties"),
        ]
        for (k, v) in keys { #expect(try c.set(k, v), "\(k)") }
        #expect(c.server.mode == .enforcing)
        #expect(c.server.certPath == "/s.pem" && c.server.keyPath == "/s.key" && c.server.keyPassword == "pw")
        #expect(c.server.trustCertPath == "/ca.pem" && c.server.needClientAuth == .require)
        #expect(c.client.enabled && c.client.certPath == "/c.pem" && c.client.keyPath == "/c.key")
        #expect(c.client.keyPassword == "cpw" && c.client.trustCertPath == "/ca2.pem")
        #expect(!c.client.authServer && c.client.testMode && !c.client.verifiesServer)
        #expect(c.configFile == "/tls.properties")
    }

    @Test func defaultsAreOffAndVerifying() {
        let c = TLSConfig()
        #expect(c.server.mode == .disabled && c.server.needClientAuth == .none)
        #expect(!c.client.enabled && c.client.verifiesServer)
    }

    @Test func rejectsBadValuesAndUnknownTLSKeys() throws {
        var c = TLSConfig()
        #expect(throws: TLSConfigError.self) { try c.set("tls.server.mode", "strict") }
        #expect(throws: TLSConfigError.self) { try c.set("tls.server.need.client.auth", "yes") }
        #expect(throws: TLSConfigError.self) { try c.set("tls.enable", "1") }
        #expect(throws: TLSConfigError.self) { try c.set("tls.server.certpath", "/x") }
        #expect(try !c.set("brokerName", "b"))
        #expect(c == TLSConfig())
    }

    @Test func configFileOverridesInlineKeys() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString).properties").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("# Java's tls.properties\ntls.server.mode = permissive\ntls.server.certPath:/file.pem\n\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        var c = TLSConfig()
        _ = try c.set("tls.server.mode", "enforcing")
        _ = try c.set("tls.server.keyPath", "/inline.key")
        _ = try c.set("tls.config.file", path)
        let r = try c.resolved()
        #expect(r.server.mode == .permissive && r.server.certPath == "/file.pem" && r.server.keyPath == "/inline.key")

        _ = try c.set("tls.config.file", path + ".missing")
        let error = try #require(throws: TLSConfigError.self) { _ = try c.resolved() }
        guard case .unreadable(let key, let missing, _) = error else { Issue.record("\(error)"); return }
        #expect(key == "tls.config.file" && missing == path + ".missing")
    }

    @Test func unreadableCertificateOrKeyNamesThePath() throws {
        let certs = try TestCertificates.make()
        defer { certs.remove() }
        var s = TLSServerSettings()
        s.mode = .enforcing
        #expect(throws: TLSConfigError.missing(key: "tls.server.certPath", reason: "tls.server.mode is enforcing")) {
            _ = try s.makeServer()
        }
        s.certPath = certs.directory + "/nope.pem"
        s.keyPath = certs.serverKey
        let error = try #require(throws: TLSConfigError.self) { _ = try s.makeServer() }
        #expect("\(error)".contains("tls.server.certPath") && "\(error)".contains(certs.directory + "/nope.pem"))

        s.certPath = certs.serverCert
        s.keyPath = certs.serverCert  // a certificate is not a key
        let keyError = try #require(throws: TLSConfigError.self) { _ = try s.makeServer() }
        #expect("\(keyError)".contains("tls.server.keyPath") && "\(keyError)".contains(certs.serverCert))

        s.keyPath = certs.serverKey
        #expect(try s.makeServer()?.mode == .enforcing)
        s.mode = .disabled
        #expect(try s.makeServer() == nil)
    }

    @Test func encryptedKeyNeedsItsPassword() throws {
        let certs = try TestCertificates.make()
        defer { certs.remove() }
        var s = TLSServerSettings()
        s.mode = .permissive
        s.certPath = certs.serverCert
        s.keyPath = certs.serverKeyEncrypted
        #expect(throws: TLSConfigError.self) { _ = try s.makeServer() }
        s.keyPassword = "wrong"
        #expect(throws: TLSConfigError.self) { _ = try s.makeServer() }
        s.keyPassword = certs.keyPassword
        #expect(try s.makeServer() != nil)
    }
}
