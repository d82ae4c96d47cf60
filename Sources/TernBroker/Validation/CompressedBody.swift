import CompressNIO
import NIOCore
import TernMessage

/// A body flagged compressed (sysFlag bit 0) is stored as sent, and every consumer inflates it: one that is not
/// a zlib stream cannot be consumed (the C++ pull consumer retries that queue forever). So it is inflated once
/// at the door and refused with MESSAGE_ILLEGAL when it does not inflate.
///
/// Cost: one inflate of each compressed single-message body, on the caller's thread, into at most
/// `maxMessageSize` bytes (an uncompressed body larger than that would be refused anyway), then discarded.
enum CompressedBody {
    /// Why a body with `sysFlag` cannot be stored; nil when it is not flagged compressed or inflates.
    static func invalidReason(sysFlag: Int32, body: ByteBuffer?, maxMessageSize: Int) -> String? {
        guard sysFlag & SysFlag.compressed != 0 else { return nil }
        guard var input = body, input.readableBytes > 0 else { return "the compressed message body is empty" }
        do {
            _ = try input.decompress(with: .zlib(), maxSize: maxMessageSize + 1)
            return nil
        } catch {
            return "the message body is flagged compressed (sysFlag bit 0) but does not inflate as zlib within "
                + "\(maxMessageSize) bytes: \(error)"
        }
    }
}
