#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a server port treats TLS (RocketMQ's `TlsMode`).
public enum TLSMode: String, Sendable, Equatable, CaseIterable {
    /// Plain only.
    case disabled
    /// TLS and plain on the same port, told apart by the first byte (0x16 opens a TLS handshake record).
    case permissive
    /// TLS only; a plain client is closed.
    case enforcing
}

/// Whether a TLS server asks for a client certificate (`tls.server.need.client.auth`).
public enum TLSClientAuth: String, Sendable, Equatable, CaseIterable {
    case none
    /// Validated when presented; a client without one is accepted.
    case optional
    /// A client without a valid certificate fails the handshake.
    case require
}

/// The server side of a port: `tls.server.*`.
public struct TLSServerSettings: Sendable, Equatable {
    public var mode: TLSMode = .disabled
    public var certPath: String?
    public var keyPath: String?
    public var keyPassword: String?
    /// CA certificates client certificates are checked against (system roots when nil).
    public var trustCertPath: String?
    public var needClientAuth: TLSClientAuth = .none
    public init() {}
}

/// Outgoing links (broker → name server, slave → master, clients): `tls.enable` and `tls.client.*`.
public struct TLSClientSettings: Sendable, Equatable {
    public var enabled = false
    /// Client certificate for servers that require one.
    public var certPath: String?
    public var keyPath: String?
    public var keyPassword: String?
    /// CA certificates the server's certificate is checked against (system roots when nil).
    public var trustCertPath: String?
    /// Check the server's certificate chain (`tls.client.authServer`). Ours defaults to true, unlike Java.
    /// The host name is not checked: peers are addressed by the IPs the name server hands out, as in Java.
    public var authServer = true
    /// `tls.test.mode.enable`: accept any server certificate (self-signed test setups). Ours defaults to false.
    public var testMode = false
    public init() {}

    /// Whether the server's certificate chain is verified.
    public var verifiesServer: Bool { authServer && !testMode }
}

/// RocketMQ's TLS keys as one value: parsed from broker.conf / namesrv properties, or from the `tls.config.file`
/// they name (Java's `TlsSystemConfig` + `TlsHelper`). Keys in that file override the inline ones, as in Java.
public struct TLSConfig: Sendable, Equatable {
    public var server = TLSServerSettings()
    public var client = TLSClientSettings()
    /// `tls.config.file`: a properties file with the same keys, read by ``resolved()``.
    public var configFile: String?
    public init() {}

    /// Sets one key. Returns false for a key that is not a TLS key; throws for a bad value or an unknown `tls.` key
    /// (a misspelt security setting must stop startup, not be ignored).
    public mutating func set(_ key: String, _ value: String) throws(TLSConfigError) -> Bool {
        func path() throws(TLSConfigError) -> String? {
            value.isEmpty ? nil : value
        }
        func bool() throws(TLSConfigError) -> Bool {
            switch value.lowercased() {
            case "true": return true
            case "false": return false
            default: throw .badValue(key: key, value: value, reason: "expected true or false")
            }
        }
        func choice<E: RawRepresentable & CaseIterable>(_: E.Type) throws(TLSConfigError) -> E where E.RawValue == String {
            guard let v = E(rawValue: value.lowercased()) else {
                throw .badValue(key: key, value: value,
                                reason: "expected " + E.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return v
        }
        switch key {
        case "tls.server.mode": server.mode = try choice(TLSMode.self)
        case "tls.server.certPath": server.certPath = try path()
        case "tls.server.keyPath": server.keyPath = try path()
        case "tls.server.keyPassword": server.keyPassword = value.isEmpty ? nil : value
        case "tls.server.trustCertPath": server.trustCertPath = try path()
        case "tls.server.need.client.auth": server.needClientAuth = try choice(TLSClientAuth.self)
        case "tls.enable": client.enabled = try bool()
        case "tls.client.certPath": client.certPath = try path()
        case "tls.client.keyPath": client.keyPath = try path()
        case "tls.client.keyPassword": client.keyPassword = value.isEmpty ? nil : value
        case "tls.client.trustCertPath": client.trustCertPath = try path()
        case "tls.client.authServer": client.authServer = try bool()
        case "tls.test.mode.enable": client.testMode = try bool()
        case "tls.config.file": configFile = try path()
        default:
            if key.hasPrefix("tls.") { throw .badValue(key: key, value: value, reason: "unknown TLS key") }
            return false
        }
        return true
    }

    /// This config with the keys of ``configFile`` applied over it; self when there is no file.
    public func resolved() throws(TLSConfigError) -> TLSConfig {
        guard let configFile else { return self }
        let text: String
        do { text = try String(contentsOfFile: configFile, encoding: .utf8) } catch {
            throw .unreadable(key: "tls.config.file", path: configFile, reason: "\(error)")
        }
        var out = self
        out.configFile = nil
        if let other = try out.apply(properties: text, source: configFile).first {
            throw .badValue(key: other, value: "", reason: "not a TLS key (in \(configFile))")
        }
        out.configFile = configFile
        return out
    }

    /// Sets the TLS keys of a properties file's text; returns the other keys, which it leaves alone.
    public mutating func apply(properties text: String, source: String) throws(TLSConfigError) -> [String] {
        var others: [String] = []
        for (key, value) in try Self.properties(text, source: source) where try !set(key, value) {
            others.append(key)
        }
        return others
    }

    /// `key=value` (or `key: value`) lines of a Java properties file; `#` / `!` comments and blank lines skipped.
    static func properties(_ text: String, source: String) throws(TLSConfigError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = trim(raw)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw .badValue(key: "\(source) line \(number + 1)", value: line, reason: "expected key=value")
            }
            pairs.append((trim(line[..<sep]), trim(line[line.index(after: sep)...])))
        }
        return pairs
    }

    private static func trim(_ s: some StringProtocol) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(s.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}

/// A TLS setting that cannot be used; startup stops with it (never a plain port instead of a TLS one).
public enum TLSConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case badValue(key: String, value: String, reason: String)
    case missing(key: String, reason: String)
    case unreadable(key: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .badValue(let key, let value, let reason): "\(key)=\(value): \(reason)"
        case .missing(let key, let reason): "\(key) is required: \(reason)"
        case .unreadable(let key, let path, let reason): "\(key): cannot load \(path): \(reason)"
        }
    }
}
