import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import TernTransport

/// The name-server address "hot document": `GET /rocketmq/nsaddr` (or any `/rocketmq/<subgroup>`) answers
/// `200 text/plain` with the addresses joined by `;`, which Java clients fetch when given a name-server
/// domain instead of addresses. Other paths answer 404, other methods 405.
final class AddressDocumentServer: Sendable {
    private let channel: any Channel
    private let document: NIOLockedValueBox<String>
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, document: NIOLockedValueBox<String>) {
        self.channel = channel
        self.document = document
    }

    /// With `tls`, the port speaks HTTPS (and plain HTTP too in permissive mode).
    static func start(host: String, port: Int, group: any EventLoopGroup, addresses: [String], tls: TLSServer? = nil,
                      logger: Logger) async throws -> AddressDocumentServer {
        let document = NIOLockedValueBox(addresses.joined(separator: ";"))
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls?.addHandlers(to: channel, logger: logger)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AddressDocumentHandler(document: document))
                }
            }
            .bind(host: host, port: port)
            .get()
        return AddressDocumentServer(channel: channel, document: document)
    }

    func setAddresses(_ addresses: [String]) {
        document.withLockedValue { $0 = addresses.joined(separator: ";") }
    }

    var addresses: String { document.withLockedValue { $0 } }

    func stop() async {
        try? await channel.close()
    }

    /// The document's path: `/rocketmq/<subgroup>` with one non-empty segment (query string ignored).
    static func isDocumentPath(_ uri: String) -> Bool {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let prefix = "/rocketmq/"
        guard path.hasPrefix(prefix) else { return false }
        let subgroup = path.dropFirst(prefix.count)
        return !subgroup.isEmpty && !subgroup.contains("/")
    }
}

/// One HTTP connection. Lives on its channel's event loop only.
private final class AddressDocumentHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let document: NIOLockedValueBox<String>
    private var head: HTTPRequestHead?

    init(document: NIOLockedValueBox<String>) { self.document = document }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, to: head)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let status: HTTPResponseStatus
        var text: String
        if request.method != .GET && request.method != .HEAD {
            (status, text) = (.methodNotAllowed, "method not allowed\n")
        } else if AddressDocumentServer.isDocumentPath(request.uri) {
            (status, text) = (.ok, document.withLockedValue { $0 })
        } else {
            (status, text) = (.notFound, "not found\n")
        }
        if request.method == .HEAD && status != .ok { text = "" }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        let keepAlive = request.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
                      promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
