import NIOCore
import NIOHTTP1
import NIOPosix

/// One JSON POST to etcd's v3 gateway over a fresh HTTP/1.1 connection (`Connection: close`): etcd's answer
/// to a unary call, and to one keep-alive on the streaming `lease/keepalive`, ends when the request body does.
/// The whole exchange (connect included) is bounded by `timeout`; the connection is closed on every path.
struct EtcdHTTP: Sendable {
    let group: any EventLoopGroup
    let timeout: Duration

    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    private struct TimedOut: Error, CustomStringConvertible {
        var description: String { "no answer in time" }
    }

    private struct ClosedEarly: Error, CustomStringConvertible {
        var description: String { "connection closed before the answer ended" }
    }

    func post(_ path: String, body: [UInt8], to endpoint: EtcdEndpoint) async throws -> Answer {
        let connectMillis = max(1, Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(connectMillis))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = channel.channel
        return try await withThrowingTaskGroup(of: Answer?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                    head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
                    head.headers.add(name: "Content-Type", value: "application/json")
                    head.headers.add(name: "Content-Length", value: "\(body.count)")
                    head.headers.add(name: "Connection", value: "close")
                    try await outbound.write(.head(head))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                    var answer = Answer(status: 0, body: [])
                    for try await part in inbound {
                        switch part {
                        case let .head(response): answer.status = Int(response.status.code)
                        case var .body(buffer): answer.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                        case .end: return answer
                        }
                    }
                    throw ClosedEarly()
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else {
                raw.close(promise: nil)
                throw TimedOut()
            }
            return answer
        }
    }
}
