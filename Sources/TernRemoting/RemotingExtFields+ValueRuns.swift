import NIOCore

extension RemotingExtFields {
    /// ``forEachUTF8Run(ofValueAt:_:)`` for the fields at `indices`, in that order, with the header's bytes
    /// opened once for all of them (a signature check reads every value of a request).
    public func forEachUTF8Run(ofValuesAt indices: UnsafeBufferPointer<Int>, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard case let .header(source) = backing else {
            for index in indices { forEachUTF8Run(ofValueAt: index, body) }
            return
        }
        source.withUnsafeReadableBytes { bytes in
            for index in indices {
                switch entries[index].value {
                case let .verbatim(start, end):
                    body(UnsafeRawBufferPointer(rebasing: bytes[Int(start) ..< Int(end)]))
                case let .jsonString(start, end):
                    Self.forEachUTF8Run(ofToken: UnsafeRawBufferPointer(rebasing: bytes[Int(start) ..< Int(end)]), body)
                default:
                    forEachUTF8Run(ofValueAt: index, body)
                }
            }
        }
    }

    /// The UTF-8 of the JSON string token `token` (quotes included, as the decoder found it): all-ASCII tokens
    /// in one piece decoded on the stack, others as runs with invalid UTF-8 repaired (as `String(decoding:)`).
    static func forEachUTF8Run(ofToken token: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        if JSONReader.withUnescapedASCII(token, body) { return }
        var reader = JSONReader(bytes: token)
        // The token parsed when the header was decoded, so reading it again cannot fail.
        try? reader.readStringRuns { repairingUTF8($0, body) }
    }
}
