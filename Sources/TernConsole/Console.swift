import Hummingbird
import Logging
import NIOCore
import Synchronization
import TernClient
import TernOps
import TernRemoting
import TernSecurity
import TernTransport

/// The built-in web console: HTML pages built on the server, each a client of the broker over its remoting
/// port (like rocketmq-dashboard), so the broker's ACL applies to everything the console does.
///
/// Reads are signed with ``Settings/readCredentials`` (the broker's own admin account when ACL is on, followed
/// across reloads of its ACL file). Writes
/// (topic create / update / delete, offset reset, dead-letter re-push, flow limits) are signed with the
/// account the person gives through HTTP basic auth when ACL is on; without ACL the console asks for none.
public final class Console: OpsRoutes {
    public struct Settings: Sendable {
        public var nameServers: String
        public var tls: TLSClient?
        /// The account page reads are signed with, asked for each page so a change of the ACL file the broker
        /// reloaded is followed; nil: unsigned (no ACL).
        public var readCredentials: @Sendable () -> AclCredentials?
        /// Whether writes need an account from the person (the broker's `aclEnable`).
        public var aclEnabled: Bool

        public init(nameServers: String, tls: TLSClient? = nil, readCredentials: @escaping @Sendable () -> AclCredentials? = { nil },
                    aclEnabled: Bool = false) {
            self.nameServers = nameServers
            self.tls = tls
            self.readCredentials = readCredentials
            self.aclEnabled = aclEnabled
        }

        func clientOptions(credentials: AclCredentials?) -> ClientOptions {
            var o = ClientOptions(nameServer: nameServers)
            o.requestTimeout = .seconds(5)
            o.tls = tls
            o.credentials = credentials
            return o
        }
    }

    let settings: Settings
    let logger: Logger
    /// The read client and the account it signs with; replaced when ``Settings/readCredentials`` changes.
    private let readers: Mutex<(credentials: AclCredentials?, data: ConsoleData)>

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        let credentials = settings.readCredentials()
        readers = Mutex((credentials, Self.makeReader(settings, credentials)))
    }

    private static func makeReader(_ settings: Settings, _ credentials: AclCredentials?) -> ConsoleData {
        ConsoleData(admin: AdminClient(runtime: ClientRuntime(options: settings.clientOptions(credentials: credentials))))
    }

    /// The read client signing with the current read account. After a change the old client is closed: a page
    /// still reading with it fails once, as it would have with the account the broker no longer knows.
    var reader: ConsoleData {
        let credentials = settings.readCredentials()
        let (current, replaced) = readers.withLock { r -> (ConsoleData, ConsoleData?) in
            guard r.credentials != credentials else { return (r.data, nil) }
            let old = r.data
            r = (credentials, Self.makeReader(settings, credentials))
            return (r.data, old)
        }
        replaced?.admin.runtime.shutdown()
        return current
    }

    /// Closes the read client's connections.
    public func shutdown() { readers.withLock { $0.data }.admin.runtime.shutdown() }

    public func register(on router: Router<BasicRequestContext>) {
        registerReads(on: router)
        registerWrites(on: router)
    }

    // MARK: - Responses

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                           // Inline style and the one inline confirm handler only; nothing from elsewhere.
                                           .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'; img-src 'self'"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    static func query(_ request: Request) -> [String: String] {
        ConsoleRequest.parseForm(request.uri.query ?? "")
    }

    static func form(_ request: inout Request) async throws -> [String: String] {
        let body = try await request.collectBody(upTo: ConsoleRequest.formBytesMax)
        return ConsoleRequest.parseForm(String(buffer: body))
    }

    /// A read page: `render` failures become an error page naming the broker's answer.
    func page(_ section: Layout.Section, _ title: String, _ render: () async throws -> String) async -> Response {
        do { return Self.html(try await render()) } catch {
            logger.debug("console page failed", metadata: ["console.page": "\(title)", "error": "\(error)"])
            return Self.html(Layout.error(section, title: title, error), status: .badGateway)
        }
    }

    // MARK: - Writes

    /// Why a write was not attempted: ACL is on and the request carries no account.
    struct NeedsAccount: Error {}

    /// Runs `body` with an admin client signed by the person's account (ACL on) or the read client (ACL off).
    func withWriter<T: Sendable>(_ request: Request, _ body: (AdminClient) async throws -> T) async throws -> T {
        guard settings.aclEnabled else { return try await body(reader.admin) }
        guard let account = ConsoleRequest.basicCredentials(request.headers[.authorization]) else { throw NeedsAccount() }
        let runtime = ClientRuntime(options: settings.clientOptions(credentials: account))
        defer { runtime.shutdown() }
        return try await body(AdminClient(runtime: runtime))
    }

    static func needsAccount() -> Response {
        Response(
        status: .unauthorized,
        headers: [.wwwAuthenticate: "Basic realm=\"Tern console: an ACL admin account (AccessKey / SecretKey)\"",
                  .contentType: "text/html; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: Layout.page(.cluster, title: "Account needed", body: HTML.notice(
            "This change needs an ACL admin account: give its AccessKey as user name and its SecretKey as password.",
            kind: "error")))))
    }

    /// A write's outcome: the page `render` builds with a notice, the 401 challenge, or 403 when the broker
    /// refused the account.
    func write(_ request: Request, _ run: (AdminClient) async throws -> String,
               render: (String, Bool) async throws -> String) async -> Response {
        guard ConsoleRequest.isSameOrigin(origin: request.headers[.origin], authority: request.head.authority) else {
            return Self.html(Layout.page(.cluster, title: "Refused", body: HTML.notice(
                "A form from another site may not change this broker (Origin differs from this console).", kind: "error")),
                status: .forbidden)
        }
        let notice: String, failed: Bool
        var status = HTTPResponse.Status.ok
        do { (notice, failed) = (try await withWriter(request, run), false) } catch is NeedsAccount {
            return Self.needsAccount()
        } catch {
            (notice, failed) = ("\(error)", true)
            if let e = error as? ClientError, case .response(let code, _, _) = e, code == ResponseCode.noPermission {
                status = .forbidden
            } else {
                status = .badGateway
            }
            logger.info("console write refused", metadata: ["console.path": "\(request.uri.path)", "error": "\(error)"])
        }
        do { return Self.html(try await render(notice, failed), status: status) } catch {
            return Self.html(Layout.page(.cluster, title: "Result", body: HTML.notice(notice, kind: failed ? "error" : "ok")
                                         + HTML.notice("\(error)", kind: "error")), status: status)
        }
    }
}
