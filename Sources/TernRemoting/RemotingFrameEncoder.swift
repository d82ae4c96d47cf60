import NIOCore

/// Writes outbound ``RemotingCommand``s as frames (see ``RemotingFrame``), each header in the command's own
/// `serializeType`: a response built with ``RemotingCommand/makeResponse(code:remark:)`` therefore answers in
/// the type of its request.
///
/// The body is copied into the frame buffer. Encoding errors (a header over 24 bits, an overlong ROCKETMQ
/// field) fail the write's promise and leave the output untouched.
public struct RemotingFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = RemotingCommand

    public init() {}

    public func encode(data: RemotingCommand, out: inout ByteBuffer) throws {
        try RemotingFrame.write(data, into: &out)
    }
}
