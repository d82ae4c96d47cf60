import HummingbirdCore
import Logging
import NIOCore
import TernTransport

/// HTTP/1 behind RocketMQ's TLS modes: the same first-byte detector as the remoting and HA ports
/// (`TLSServer.addHandlers`), so `permissive` serves HTTP and HTTPS on one port and `enforcing` closes a plain
/// client, as on every other port of the process.
struct OpsTLSChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let tls: TLSServer

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try tls.addHandlers(to: channel, logger: logger)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Plain HTTP/1, or HTTP/1 behind `tls` when the port's `tls.server.mode` is not `disabled`.
    static func ops(tls: TLSServer?) -> HTTPServerBuilder {
        guard let tls else { return .http1() }
        return HTTPServerBuilder { responder in OpsTLSChannel(base: HTTP1Channel(responder: responder), tls: tls) }
    }
}
