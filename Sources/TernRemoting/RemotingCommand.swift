import NIOCore

/// One RocketMQ `RemotingCommand`: a request, a response or a one-way request, as carried by one frame.
///
/// The same value type serves both directions. `code` is a request code (``RequestCode``) in requests and a
/// response code (``ResponseCode``) in responses; `flag` tells them apart. `opaque` correlates a response with
/// its request and is the only correlation key.
///
/// `serializeType` records how the header arrived (JSON or ROCKETMQ binary). ``makeResponse(code:remark:)``
/// copies it, because a response must use the serialize type of its request: the C++ client only parses
/// JSON headers and treats the whole header mark as a length.
///
/// Thread-safety: a value type; `Sendable`. `body` is a `ByteBuffer`, which is copy-on-write; a decoded body
/// is a slice sharing the receive buffer's storage.
public struct RemotingCommand: Sendable, Equatable {
    /// Request code in requests, response code in responses.
    public var code: Int
    /// The sender's implementation language. Clients ignore it in responses.
    public var language: LanguageCode
    /// Ordinal of the sender's RocketMQ version enum. Written as a 16-bit value in ROCKETMQ headers.
    public var version: Int
    /// Request id, echoed by the response.
    public var opaque: Int32
    /// Response and one-way bits, plus any other bits the peer set (kept as received).
    public var flag: RemotingFlags
    /// Error or status text. `nil` is omitted from JSON; C++ always sends `""`.
    public var remark: String?
    /// The header fields (`extFields`), logically a string-to-string map.
    public var extFields: RemotingExtFields
    /// The opaque payload after the header. An empty body is decoded as `nil`.
    public var body: ByteBuffer?
    /// The header encoding the command arrived with and will be written with.
    public var serializeType: RemotingSerializeType

    /// What our side reports as `version`: the ordinal of Java RocketMQ 4.9.7 (clients ignore it in responses).
    public static let defaultVersion = 408

    public init(
        code: Int,
        language: LanguageCode = .java,
        version: Int = RemotingCommand.defaultVersion,
        opaque: Int32 = 0,
        flag: RemotingFlags = [],
        remark: String? = nil,
        extFields: RemotingExtFields = RemotingExtFields(),
        body: ByteBuffer? = nil,
        serializeType: RemotingSerializeType = .json
    ) {
        self.code = code
        self.language = language
        self.version = version
        self.opaque = opaque
        self.flag = flag
        self.remark = remark
        self.extFields = extFields
        self.body = body
        self.serializeType = serializeType
    }

    /// True when the response bit (value 1) is set: the frame answers the request with the same `opaque`.
    public var isResponse: Bool {
        get { flag.contains(.response) }
        set { if newValue { flag.insert(.response) } else { flag.remove(.response) } }
    }

    /// True when the one-way bit (value 2) is set: the sender expects no response, and none may be sent.
    public var isOneway: Bool {
        get { flag.contains(.oneway) }
        set { if newValue { flag.insert(.oneway) } else { flag.remove(.oneway) } }
    }

    /// A response to this request: same `opaque` and serialize type, the response bit set, no fields or body.
    ///
    /// This only builds the value; it does not trap on a frame that is itself a response, because the flag comes
    /// from the network. Not answering responses and one-way requests is the dispatcher's job.
    public func makeResponse(code: Int, remark: String? = nil) -> RemotingCommand {
        RemotingCommand(
            code: code,
            opaque: opaque,
            flag: .response,
            remark: remark,
            serializeType: serializeType
        )
    }
}

/// The `flag` bits of a command. Unknown bits are kept so they round-trip.
public struct RemotingFlags: OptionSet, Sendable, Hashable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Bit 0: the frame is a response.
    public static let response = RemotingFlags(rawValue: 1)
    /// Bit 1: the request expects no response.
    public static let oneway = RemotingFlags(rawValue: 2)
}

/// The header encoding, the high byte of the header mark.
public enum RemotingSerializeType: UInt8, Sendable, Hashable {
    /// JSON text (every client; the only type C++ understands).
    case json = 0
    /// RocketMQ's compact binary header (Java clients with `rocketmq.serialize.type=ROCKETMQ`).
    case rocketmq = 1
}
