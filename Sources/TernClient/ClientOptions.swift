import NIOCore
import TernRemoting
import TernTransport

/// How request headers are written: JSON (every client) or RocketMQ's binary header (`serializeType` 1).
public enum HeaderEncoding: Sendable, Hashable {
    case json
    case binary

    var serializeType: RemotingSerializeType { self == .json ? .json : .rocketmq }
}

/// Settings shared by the producer, the pull consumer and the admin client of one ``ClientRuntime``.
public struct ClientOptions: Sendable {
    /// Name-server addresses (`host:port`); tried in turn when one is unreachable.
    public var nameServers: [String]
    /// Timeout of ordinary requests (send, offsets, admin).
    public var requestTimeout: TimeAmount = .seconds(3)
    public var connectTimeout: TimeAmount = .seconds(3)
    public var headerEncoding: HeaderEncoding = .json
    /// TCP connections per broker address; requests are spread round-robin over them.
    public var connectionsPerAddress: Int = 1
    /// How long a topic route is used before it is fetched again.
    public var routeTTL: TimeAmount = .seconds(30)
    /// What the requests report as `language` / `version` (Java 4.9.7 by default, so brokers apply their newest rules).
    public var language: LanguageCode = .java
    public var version: Int = RemotingCommand.defaultVersion
    /// TLS on every connection (name servers and brokers, like Java's `tls.enable`); nil: plain.
    public var tls: TLSClient?

    /// `nameServer` may list several addresses separated by `;` or `,` (mqadmin style).
    public init(nameServer: String) {
        nameServers = nameServer.split(whereSeparator: { $0 == ";" || $0 == "," })
            .map { $0.trimmingCharacters(in: " ") }
            .filter { !$0.isEmpty }
    }
}

extension ClientOptions {
    /// Turns TLS on from RocketMQ's client keys: `tls.client.trustCertPath` (the CA to verify brokers and name
    /// servers against; system roots when nil), `tls.test.mode.enable` (verify nothing), and an optional
    /// `tls.config.file` whose `tls.*` keys are read first. Throws naming any unreadable file.
    public mutating func enableTLS(trustCertPath: String? = nil, testMode: Bool = false,
                                   configFile: String? = nil) throws(TLSConfigError) {
        var config = TLSConfig()
        config.configFile = configFile
        config = try config.resolved()
        config.client.enabled = true
        if let trustCertPath { config.client.trustCertPath = trustCertPath }
        if testMode { config.client.testMode = true }
        tls = try config.client.makeClient()
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
