import NIOSSL

/// A server port's TLS, ready to use: the mode and the context built from the certificate files.
public struct TLSServer: Sendable {
    public let mode: TLSMode
    let context: NIOSSLContext
}

/// An outgoing link's TLS, ready to use.
public struct TLSClient: Sendable {
    let context: NIOSSLContext
}

extension TLSServerSettings {
    /// The port's TLS; nil when disabled. Every file is loaded now, so a missing or unreadable certificate or key
    /// stops startup with an error naming its key and path.
    public func makeServer() throws(TLSConfigError) -> TLSServer? {
        guard mode != .disabled else { return nil }
        guard let certPath else { throw .missing(key: "tls.server.certPath", reason: "tls.server.mode is \(mode.rawValue)") }
        guard let keyPath else { throw .missing(key: "tls.server.keyPath", reason: "tls.server.mode is \(mode.rawValue)") }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try TLSFiles.certificates("tls.server.certPath", certPath).map { .certificate($0) },
            privateKey: .privateKey(try TLSFiles.key("tls.server.keyPath", keyPath, password: keyPassword)))
        tls.minimumTLSVersion = .tlsv12
        switch needClientAuth {
        case .none: tls.certificateVerification = .none
        case .optional: tls.certificateVerification = .optionalVerification
        case .require: tls.certificateVerification = .noHostnameVerification
        }
        if needClientAuth != .none, let trustCertPath {
            tls.trustRoots = .certificates(try TLSFiles.certificates("tls.server.trustCertPath", trustCertPath))
        }
        return TLSServer(mode: mode, context: try TLSFiles.context(tls))
    }
}

extension TLSClientSettings {
    /// The link's TLS; nil unless `tls.enable`. Files are loaded now (errors name key and path).
    public func makeClient() throws(TLSConfigError) -> TLSClient? {
        guard enabled else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = verifiesServer ? .noHostnameVerification : .none
        if verifiesServer, let trustCertPath {
            tls.trustRoots = .certificates(try TLSFiles.certificates("tls.client.trustCertPath", trustCertPath))
        }
        switch (certPath, keyPath) {
        case (nil, nil): break
        case (let cert?, let key?):
            tls.certificateChain = try TLSFiles.certificates("tls.client.certPath", cert).map { .certificate($0) }
            tls.privateKey = .privateKey(try TLSFiles.key("tls.client.keyPath", key, password: keyPassword))
        case (nil, _): throw .missing(key: "tls.client.certPath", reason: "tls.client.keyPath is set")
        case (_, nil): throw .missing(key: "tls.client.keyPath", reason: "tls.client.certPath is set")
        }
        return TLSClient(context: try TLSFiles.context(tls))
    }
}

/// Loading PEM files, with errors that name the setting and the path.
private enum TLSFiles {
    static func certificates(_ key: String, _ path: String) throws(TLSConfigError) -> [NIOSSLCertificate] {
        let certs: [NIOSSLCertificate]
        do { certs = try NIOSSLCertificate.fromPEMFile(path) } catch {
            throw .unreadable(key: key, path: path, reason: "not a readable PEM certificate file (\(error))")
        }
        guard !certs.isEmpty else { throw .unreadable(key: key, path: path, reason: "no certificate in the file") }
        return certs
    }

    static func key(_ key: String, _ path: String, password: String?) throws(TLSConfigError) -> NIOSSLPrivateKey {
        do {
            if let password {
                return try NIOSSLPrivateKey(file: path, format: .pem) { setPassword in setPassword(Array(password.utf8)) }
            }
            // An encrypted key without a password must fail, not prompt on stdin (BoringSSL's default).
            return try NIOSSLPrivateKey(file: path, format: .pem) { (_: ([UInt8]) -> Void) in }
        } catch {
            throw .unreadable(key: key, path: path,
                              reason: "not a readable PEM private key, or a wrong tls.*.keyPassword (\(error))")
        }
    }

    static func context(_ configuration: TLSConfiguration) throws(TLSConfigError) -> NIOSSLContext {
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw .badValue(key: "tls", value: "", reason: "the certificate and key do not make a TLS context (\(error))")
        }
    }
}
