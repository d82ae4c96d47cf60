import TernSystem

/// One commit-log segment file: `<commitlog>/<20-digit base offset>`, exactly `size` bytes, mapped.
///
///     base ............................................ base + size
///     [ records | blank filler? | zeros (not yet written)        ]
///
/// File-naming rule: the name is the absolute log offset of the file's first byte, zero-padded to 20
/// digits, so `ls` order is log order and a record's segment is `offset / size`.
public final class Segment: Sendable {
    public let base: Int64
    public let file: MappedFile
    public var size: Int { file.size }
    public var end: Int64 { base + Int64(file.size) }

    init(base: Int64, file: MappedFile) {
        self.base = base
        self.file = file
    }

    public static func fileName(base: Int64) -> String {
        let digits = String(base)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The base offset encoded in a segment file name, or nil when the name is not 20 digits.
    public static func base(fromFileName name: String) -> Int64? {
        guard name.utf8.count == 20, name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(name)
    }

    /// Bytes of the log range `range` (absolute offsets inside this segment).
    func bytes(_ range: Range<Int64>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= base && range.upperBound <= end, "range outside segment")
        return file.bytes(Int(range.lowerBound - base)..<Int(range.upperBound - base))
    }

    func mutableBytes(_ range: Range<Int64>) -> UnsafeMutableRawBufferPointer {
        precondition(range.lowerBound >= base && range.upperBound <= end, "range outside segment")
        return file.mutableBytes(Int(range.lowerBound - base)..<Int(range.upperBound - base))
    }
}
