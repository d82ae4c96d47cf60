import Synchronization

/// Private memory where records are encoded before one `PositionalFile.write` copies them into the file: the
/// commit log's write-through path (no stores into the shared mapping, hence no write faults on its pages).
///
///     0 ............. count ............. capacity
///     [ staged bytes | room                ]
///
/// The bookkeeping sits behind a lock (uncontended: the commit log uses its stage under its own writer lock), so
/// the type is Sendable without exemptions. The buffer only grows; the views `reserve` and `staged` hand out are
/// valid until the next `reserve` (which may move the bytes) or `clear`, and only for the thread the owner lets
/// use the stage meanwhile.
public final class WriteStage: Sendable {
    private struct Buffer {
        var bytes: UnsafeMutableRawBufferPointer
        var count = 0
    }
    private let state: Mutex<Buffer>

    public init(capacity: Int) {
        state = Mutex(Buffer(bytes: .allocate(byteCount: max(capacity, 4096), alignment: 64)))
    }

    deinit { state.withLock { $0.bytes.deallocate() } }

    /// Bytes staged so far.
    public var count: Int { state.withLock { $0.count } }

    /// `n` more bytes of room after the staged ones (the buffer at least doubles when it must grow).
    public func reserve(_ n: Int) -> UnsafeMutableRawBufferPointer {
        precondition(n >= 0, "negative reservation")
        return state.withLock { s in
            if s.count + n > s.bytes.count {
                let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(s.bytes.count * 2, s.count + n), alignment: 64)
                grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: s.bytes[..<s.count]))
                s.bytes.deallocate()
                s.bytes = grown
            }
            defer { s.count += n }
            return UnsafeMutableRawBufferPointer(rebasing: s.bytes[s.count..<(s.count + n)])
        }
    }

    /// The staged bytes.
    public var staged: UnsafeRawBufferPointer {
        state.withLock { UnsafeRawBufferPointer(rebasing: $0.bytes[..<$0.count]) }
    }

    public func clear() { state.withLock { $0.count = 0 } }
}
