/// Every way the remoting codec refuses a frame or a command.
///
/// Decoding errors mean the peer sent bytes we cannot frame or parse; the connection's framing can no longer be
/// trusted, so the pipeline answers what it can and closes. Encoding errors mean a command cannot be
/// represented on the wire (a field too long for its length prefix).
public enum RemotingError: Error, Sendable, Equatable {
    /// The length prefix is below 4, so there is no room for the header mark.
    case frameTooShort(length: Int)
    /// The length prefix (bytes after itself) exceeds the configured maximum.
    case frameTooLarge(size: Int, limit: Int)
    /// The header length in the header mark does not fit in the frame.
    case headerLengthInvalid(headerLength: Int, frameLength: Int)
    /// The header mark's high byte is neither 0 (JSON) nor 1 (ROCKETMQ).
    case unknownSerializeType(UInt8)
    /// The header bytes do not parse. `offset` is the byte offset inside the header where parsing stopped.
    case malformedHeader(reason: String, offset: Int)
    /// Encoding: the header is longer than the 24 bits of the header mark can express.
    case headerTooLarge(length: Int)
    /// Encoding: a string is too long for its length prefix in the ROCKETMQ header (keys have 16 bits).
    case headerFieldTooLong(field: String, length: Int)
}

extension RemotingError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .frameTooShort(let length):
            "frame length \(length) leaves no room for the 4-byte header mark"
        case .frameTooLarge(let size, let limit):
            "frame length \(size) exceeds the limit of \(limit) bytes"
        case .headerLengthInvalid(let headerLength, let frameLength):
            "header length \(headerLength) does not fit in frame length \(frameLength)"
        case .unknownSerializeType(let type):
            "unknown serialize type \(type) in the header mark"
        case .malformedHeader(let reason, let offset):
            "malformed header at byte \(offset): \(reason)"
        case .headerTooLarge(let length):
            "encoded header of \(length) bytes exceeds the 24-bit header length"
        case .headerFieldTooLong(let field, let length):
            "header field \(field) of \(length) bytes is too long for its length prefix"
        }
    }
}
