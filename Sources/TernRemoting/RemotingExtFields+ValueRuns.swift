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

    /// Copies the UTF-8 of the fields at `indices`, in that order, back to back into `buffer`; returns the byte
    /// count, or nil when they do not fit (`buffer` then holds a prefix). The same bytes as
    /// ``forEachUTF8Run(ofValuesAt:_:)``, in one piece: a consumer that takes its input in C calls (a hash) then
    /// makes one call, and escaped ASCII values are unescaped straight into `buffer`.
    public func copyUTF8(ofValuesAt indices: UnsafeBufferPointer<Int>, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        // Closure literals over one local, not a local function: a local function handed on as a closure
        // boxed the variables it captured (two heap allocations per call).
        var out = Gathered(buffer: buffer)
        guard case let .header(source) = backing else {
            for index in indices { forEachUTF8Run(ofValueAt: index) { out.append($0) } }
            return out.count
        }
        source.withUnsafeReadableBytes { bytes in
            for index in indices where out.fits {
                switch entries[index].value {
                case let .verbatim(start, end):
                    out.append(UnsafeRawBufferPointer(rebasing: bytes[Int(start) ..< Int(end)]))
                case let .jsonString(start, end):
                    let token = UnsafeRawBufferPointer(rebasing: bytes[Int(start) ..< Int(end)])
                    if let count = JSONReader.unescapeASCII(token, into: out.rest) {
                        out.used += count
                    } else {
                        var reader = JSONReader(bytes: token)
                        // The token parsed when the header was decoded, so reading it again cannot fail.
                        try? reader.readStringRuns { Self.repairingUTF8($0) { out.append($0) } }
                    }
                default:
                    forEachUTF8Run(ofValueAt: index) { out.append($0) }
                }
            }
        }
        return out.count
    }

    /// Bytes appended to a caller's buffer until one run does not fit.
    private struct Gathered {
        let buffer: UnsafeMutableRawBufferPointer
        var used = 0
        var fits = true

        /// What is still free.
        var rest: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: buffer[used...]) }
        /// The byte count, nil once a run did not fit.
        var count: Int? { fits ? used : nil }

        mutating func append(_ run: UnsafeRawBufferPointer) {
            guard let from = run.baseAddress, run.count > 0 else { return }
            guard fits, run.count <= buffer.count - used else { fits = false; return }
            (buffer.baseAddress! + used).copyMemory(from: from, byteCount: run.count)
            used += run.count
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
