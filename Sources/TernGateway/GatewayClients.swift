import Foundation
import Logging
import NIOConcurrencyHelpers
import Synchronization
import TernClient
import TernRemoting
import TernSecurity

/// The RocketMQ clients the gateway sends and pulls with: one set without credentials when ACL is off, one per
/// account when it is on, so the broker enforces that account's permissions (the gateway has no account of
/// its own).
///
/// Bearer token of an account: `<accessKey>:<signature>` where signature = Base64(HmacSHA1(secretKey, accessKey))
/// — RocketMQ's request signature over the content "accessKey", so any RocketMQ signer can make it.
public final class GatewayClients: Sendable {
    struct Clients: Sendable {
        let runtime: ClientRuntime
        let producer: Producer
        let secretKey: String?
    }

    static let producerGroup = "TERN_HTTP_GATEWAY"
    /// Account tables are bounded: a flood of distinct (valid) accounts cannot grow it past this.
    static let maxAccounts = 1024

    private let config: GatewayConfig
    private let acl: PlainAclFile?
    private let anonymous: Clients
    private let accounts = Mutex<[String: Clients]>([:])

    init(config: GatewayConfig, logger: Logger) throws {
        self.config = config
        acl = config.acl
        anonymous = Self.make(config, credentials: nil)
    }

    private static func make(_ config: GatewayConfig, credentials: AclCredentials?) -> Clients {
        var options = ClientOptions(nameServer: config.nameServers.joined(separator: ";"))
        options.tls = config.tls
        options.credentials = credentials
        let runtime = ClientRuntime(options: options)
        var producerOptions = ProducerOptions()
        producerOptions.group = producerGroup
        return Clients(runtime: runtime, producer: Producer(runtime: runtime, options: producerOptions),
                       secretKey: credentials?.secretKey)
    }

    /// The clients for a request's `Authorization` header value.
    func clients(authorization: String?) throws(GatewayError) -> Clients {
        guard let acl else { return anonymous }
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            throw .forbidden("ACL is enabled: send Authorization: Bearer <accessKey>:<Base64(HmacSHA1(secretKey, accessKey))>")
        }
        let token = authorization.dropFirst("Bearer ".count)
        guard let colon = token.firstIndex(of: ":") else { throw .forbidden("malformed bearer token") }
        let accessKey = String(token[..<colon])
        let signature = String(token[token.index(after: colon)...])
        guard let account = acl.current.accounts[accessKey],
              AclSigner.isValid(signature, extFields: [AclSigner.accessKeyKey: accessKey], body: nil, key: account.signingKey)
        else { throw .forbidden("bearer token does not match an account of the ACL file") }
        return accounts.withLock { table in
            if let c = table[accessKey], c.secretKey == account.secretKey { return c }
            if table.count >= Self.maxAccounts, let evicted = table.keys.first { table.removeValue(forKey: evicted)?.runtime.shutdown() }
            let c = Self.make(config, credentials: AclCredentials(accessKey: accessKey, secretKey: account.secretKey))
            table.removeValue(forKey: accessKey)?.runtime.shutdown()
            table[accessKey] = c
            return c
        }
    }

    /// Token of an account (what a caller sends after `Bearer `).
    public static func token(accessKey: String, secretKey: String) -> String {
        accessKey + ":" + AclSigner.signature(content: Array(accessKey.utf8), secretKey: secretKey)
    }

    func shutdown() {
        anonymous.runtime.shutdown()
        for c in accounts.withLock({ $0.values }) { c.runtime.shutdown() }
    }
}
