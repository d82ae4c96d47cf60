import Hummingbird
import NIOCore
import TernBroker
import TernConsole
import TernOps
import TernSecurity
import TernTransport

extension HTTPSurface {
    /// The built-in console: a client of the broker through its name servers. With ACL on, pages read with the
    /// account the broker registers with (its `accessKey` / `secretKey`, else the first admin of the broker's ACL
    /// file as last reloaded).
    static func console(_ target: Target) throws -> Console {
        let config = target.config, acl = target.acl
        let settings = Console.Settings(nameServers: config.namesrvAddr.joined(separator: ";"),
                                        tls: try config.tls.resolved().client.makeClient(),
                                        readCredentials: { config.nameServerCredentials(acl: acl) }, aclEnabled: config.aclEnable)
        return Console(settings: settings, logger: target.logger)
    }
}

/// `tern standalone`'s name-server address document on the HTTP port: `GET /rocketmq/<subgroup>` answers the
/// addresses joined by `;` as text (what Java and C++ clients given a name-server domain fetch).
struct AddressDocumentRoutes: OpsRoutes {
    let addresses: [String]

    func register(on router: Router<BasicRequestContext>) {
        let document = addresses.joined(separator: ";")
        router.get("/rocketmq/:subgroup") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: document)))
        }
    }
}
