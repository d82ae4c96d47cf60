/// Bytes a draft's body can share with the buffer they arrived in (a request's read buffer), so that the record
/// encoder copies them once, from that buffer straight into the log: no body array per send. TernMessage knows
/// no buffer type; the transport side wraps its own (a `ByteBuffer`) in a conforming value.
///
/// Conformers are immutable values that keep their bytes alive themselves (a reference to the buffer's storage),
/// so a draft stays valid wherever it goes: sharing needs no lifetime rule. A conformer of at most three words
/// sits inline in the existential (no box allocated).
public protocol SharedMessageBytes: Sendable {
    /// The number of bytes; `withUnsafeBytes` passes exactly this many.
    var count: Int { get }
    /// `body` with the bytes (valid only during the call; the same bytes on every call).
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

/// A message body as a draft holds it: bytes of its own, or bytes shared with their receive buffer.
public enum MessageBody: Sendable {
    case bytes([UInt8])
    case shared(any SharedMessageBytes)

    public var count: Int {
        switch self {
        case let .bytes(b): b.count
        case let .shared(s): s.count
        }
    }

    /// `body` with the bytes (valid only during the call).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case let .bytes(b): b.withUnsafeBytes(body)
        case let .shared(s): s.withUnsafeBytes(body)
        }
    }

}
