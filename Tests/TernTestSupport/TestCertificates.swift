import Foundation

/// Certificates made with `openssl` when a test runs (never committed): a CA, a server certificate for
/// 127.0.0.1 and a client certificate signed by it, an encrypted copy of the server key, and a second,
/// unrelated CA with its own certificate (what an unknown party would present).
public struct TestCertificates: Sendable {
    public let directory: String
    public var caCert: String { directory + "/ca.pem" }
    public var serverCert: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server.key" }
    /// `serverKey` as PKCS#8 encrypted with ``keyPassword``.
    public var serverKeyEncrypted: String { directory + "/server-enc.key" }
    public let keyPassword = "tern-secret"
    public var clientCert: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client.key" }
    /// Signed by an unrelated CA: no Tern test trusts it.
    public var rogueCert: String { directory + "/rogue.pem" }
    public var rogueKey: String { directory + "/rogue.key" }

    public struct OpenSSLFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Makes a fresh set in a new temporary directory.
    public static func make() throws -> TestCertificates {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let certs = TestCertificates(directory: dir)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "rogue-ca"] {
            try openssl(dir, ["req", "-x509"] + ec + ["-keyout", "\(ca).key", "-out", "\(ca).pem", "-days", "2",
                                                      "-subj", "/CN=tern-test-\(ca)"])
        }
        let leaves = [("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                      ("client", "ca", "subjectAltName=DNS:tern-test-client"),
                      ("rogue", "rogue-ca", "subjectAltName=IP:127.0.0.1,DNS:localhost")]
        for (name, ca, san) in leaves {
            try openssl(dir, ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try Data((san + "\n").utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name).ext"))
            try openssl(dir, ["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key",
                              "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext"])
        }
        try openssl(dir, ["pkcs8", "-topk8", "-in", "server.key", "-out", "server-enc.key",
                          "-v2", "aes-256-cbc", "-passout", "pass:\(certs.keyPassword)"])
        return certs
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    static func openssl(_ directory: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw OpenSSLFailed(description: "openssl \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
    }
}

/// `openssl s_client`: a real, independent TLS client.
public enum OpenSSLClient {
    /// Connects to 127.0.0.1:`port`, completes a handshake verifying against `caFile`, and hangs up (stdin is
    /// empty). Returns what s_client printed; throws when it failed.
    public static func handshake(port: Int, caFile: String, extra: [String] = []) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", caFile, "-verify_return_error"] + extra
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestCertificates.OpenSSLFailed(description: "openssl s_client exited \(p.terminationStatus): \(text)")
        }
        return text
    }
}
