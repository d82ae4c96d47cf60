import NIOCore

/// A value in fastjson's dialect of JSON, the one Java RocketMQ's `RemotingSerializable.toJson` writes.
///
/// It differs from JSON in one way that matters: a map's keys are written as values, so a map keyed by
/// `MessageQueue` objects reads `{{"brokerName":"b","queueId":0,"topic":"t"}:{...}}` and one keyed by
/// `Integer` reads `{0:5}`. `object` therefore keeps members in order with keys of any kind.
/// Java beans are written with their properties in alphabetical order of the getter names: `bean` builds that.
public indirect enum FastJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([FastJSON])
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: FastJSON
        public var value: FastJSON

        public init(_ key: FastJSON, _ value: FastJSON) {
            self.key = key
            self.value = value
        }
    }

    /// A Java bean: its properties by name, written in alphabetical order (fastjson's default field order).
    public static func bean(_ fields: [String: FastJSON]) -> FastJSON {
        .object(fields.sorted { $0.key < $1.key }.map { Member(.string($0.key), $0.value) })
    }

    /// A `Map<String, String>` (HashMap order is unspecified in Java; sorted here to be stable).
    public static func stringMap(_ map: [String: String]) -> FastJSON {
        .object(map.sorted { $0.key < $1.key }.map { Member(.string($0.key), .string($0.value)) })
    }

    /// The value of the member whose key is the string `name`.
    public subscript(name: String) -> FastJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == .string(name) }?.value
    }

    public var members: [Member]? {
        if case .object(let m) = self { return m }
        return nil
    }

    public var elements: [FastJSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer, also from a whole double or a numeric string (fastjson reads both into a `long`).
    public var int64: Int64? {
        switch self {
        case .integer(let i): return i
        case .double(let d): return d.rounded() == d && abs(d) < 9.2e18 ? Int64(d) : nil
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s == "true" ? true : s == "false" ? false : nil
        default: return nil
        }
    }
}

/// Why a fastjson body was refused.
public enum FastJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not the dialect's syntax at byte `offset`.
    case syntax(offset: Int, expected: String)
    /// Nested deeper than the reader allows.
    case tooDeep(offset: Int)
    /// Well-formed, but a required field is missing or of the wrong kind.
    case field(String, in: String)

    public var description: String {
        switch self {
        case .syntax(let offset, let expected): "fastjson syntax error at byte \(offset): expected \(expected)"
        case .tooDeep(let offset): "fastjson nesting too deep at byte \(offset)"
        case .field(let name, let type): "\(type): missing or malformed field \(name)"
        }
    }
}

/// A body type written and read in fastjson's dialect (the admin answers Java's tools decode).
public protocol FastJSONBody: Sendable {
    var fastJSON: FastJSON { get }
    init(fastJSON: FastJSON) throws
}

extension FastJSONBody {
    public func encoded() -> ByteBuffer { ByteBuffer(string: FastJSONWriter.write(fastJSON)) }

    public static func decode(from body: ByteBuffer?) throws -> Self {
        guard let body, body.readableBytes > 0 else { throw JSONBodyError.missingBody(String(describing: Self.self)) }
        return try Self(fastJSON: FastJSONReader.read(body.readableBytesView))
    }
}

extension FastJSON {
    /// The required field `name` converted by `convert`; throws naming the field and `type`.
    public func field<T>(_ name: String, of type: String, _ convert: (FastJSON) -> T?) throws -> T {
        guard let v = self[name], let t = convert(v) else { throw FastJSONError.field(name, in: type) }
        return t
    }
}
