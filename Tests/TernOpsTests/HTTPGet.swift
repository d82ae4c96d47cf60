import Foundation
import NIOCore
import NIOPosix

/// A plain HTTP/1.1 GET over loopback (`Connection: close`): status and body. Enough to scrape `/metrics`
/// without a client library.
enum HTTPGet {
    struct Response {
        var status: Int
        var headers: String
        var body: String
    }

    static func get(port: Int, path: String) async throws -> Response {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var raw = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
            for try await var chunk in inbound { raw.writeBuffer(&chunk) }
        }
        let text = String(buffer: raw)
        guard let split = text.range(of: "\r\n\r\n") else { throw HTTPGetError.malformed(text) }
        let head = String(text[..<split.lowerBound])
        var body = String(text[split.upperBound...])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return Response(status: status, headers: head, body: body)
    }

    private static func dechunk(_ s: String) -> String {
        var out = "", rest = Substring(s)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            out += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return out
    }

    enum HTTPGetError: Error { case malformed(String) }
}

/// One sample's value from an exposition, by the metric name and label pairs it must carry (nil: absent).
func sample(_ exposition: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        let matches = labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") }
        if matches, let v = line.split(separator: " ").last.flatMap({ Double($0) }) { return v }
    }
    return nil
}
