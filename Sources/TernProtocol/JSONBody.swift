import Foundation
import NIOCore

/// JSON bodies on the wire: encoded with sorted keys (stable, like jsoncpp), decoded leniently from a
/// `ByteBuffer`. C++ parses list bodies as NUL-terminated strings, which plain JSON text satisfies.
public enum JSONBody {
    public static func encode(_ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own model types cannot fail (no floats, no non-string-keyed dictionaries).
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer?) throws -> T {
        guard let body, body.readableBytes > 0 else { throw JSONBodyError.missingBody(String(describing: T.self)) }
        var bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? []
        // Trailing NULs (C strings) and whitespace are tolerated.
        while let last = bytes.last, last == 0 { bytes.removeLast() }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw JSONBodyError.malformed(String(describing: T.self), reason: "\(error)")
        }
    }
}

public enum JSONBodyError: Error, Sendable, CustomStringConvertible {
    case missingBody(String)
    case malformed(String, reason: String)

    public var description: String {
        switch self {
        case .missingBody(let type): "request needs a \(type) body"
        case .malformed(let type, let reason): "malformed \(type) body: \(reason)"
        }
    }
}
