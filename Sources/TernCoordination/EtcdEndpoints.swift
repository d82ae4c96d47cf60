import Foundation

/// etcd client URLs as configured (`etcdEndpoints=http://a:2379;http://b:2379`): plain HTTP only (the JSON
/// gateway of etcd v3), host and port parsed once.
public struct EtcdEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "http://\(host):\(port)" }

    /// `http://host:port`, `host:port` or `host` (port 2379); nil for anything else (https is not supported).
    public init?(parsing text: some StringProtocol) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") { return nil }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty else { return nil }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = Int(rest[rest.index(after: colon)...]), port > 0, port < 65_536 else { return nil }
            let host = rest[..<colon]
            guard !host.isEmpty else { return nil }
            self.init(host: String(host), port: port)
        } else {
            self.init(host: String(rest), port: 2379)
        }
    }

    /// A `;`- or `,`-separated list; nil when empty or when any entry is invalid.
    public static func parseList(_ text: String) -> [EtcdEndpoint]? {
        let parts = text.split(whereSeparator: { $0 == ";" || $0 == "," }).filter { !$0.allSatisfy(\.isWhitespace) }
        let endpoints = parts.compactMap { EtcdEndpoint(parsing: $0) }
        return endpoints.isEmpty || endpoints.count != parts.count ? nil : endpoints
    }
}
