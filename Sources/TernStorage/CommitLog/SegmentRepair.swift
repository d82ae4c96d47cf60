import Logging
import TernMessage
import TernSystem

/// Startup repair of a trailing segment file shorter than the configured segment size.
///
/// Such a file is what an interrupted preparation left before segments were built under a temporary name and
/// renamed into place (a crash between creat and posix_fallocate, or a failed allocation that was not cleaned
/// up): 0 bytes, or a partial allocation. Only the LAST file is considered; a short file in the middle of the log
/// stays a `badSegment` error.
///
/// Truth table (file shorter than the segment size):
///
///     contents                                   writable store           read-only tool
///     all zeros (0 bytes included)               unlink, warn             ignore, warn
///     a valid record at its head, after a        extend to full, warn     map at its size, warn
///       segment of the configured size
///     a valid record, no such segment before     badSegment               map at its size, warn
///     anything else                              badSegment               badSegment
///
/// A short file is never mapped at the configured size (bytes past its end would raise SIGBUS), and nothing that
/// may be data is ever deleted: extending keeps every byte and appends zeros, which recovery reads as end of data.
/// A lone short segment holding records is refused rather than extended: it is more likely a store written with
/// a smaller `segmentSize` than the one configured now, and extending it would make that mistake permanent.
enum SegmentRepair {
    enum Outcome: Equatable {
        /// The file held no records and is gone (or, read-only, ignored).
        case removed
        /// The file now has the configured size.
        case extended
        /// Read-only: the file keeps its size and is mapped as it is.
        case keptShort
    }

    /// `followsFullSegment`: the file comes after a segment of the configured size (the geometry is confirmed).
    static func repairTrailing(path: String, size: Int, segmentSize: Int, maxRecordSize: Int,
                               followsFullSegment: Bool, readOnly: Bool, logger: Logger) throws -> Outcome {
        precondition(size < segmentSize, "only a short segment is repaired")
        let metadata: Logger.Metadata = ["segment.path": "\(path)", "segment.size": "\(size)",
                                         "segment.expectedSize": "\(segmentSize)"]
        if try holdsOnlyZeros(path: path, size: size) {
            if !readOnly { try FileSystem.remove(path) }
            logger.warning(readOnly ? "ignoring an empty trailing segment file (an interrupted preparation)"
                               : "removed an empty trailing segment file (an interrupted preparation)",
                           metadata: metadata)
            return .removed
        }
        let file = try MappedFile.openReadOnly(path: path)
        guard case .record = RecordScanner.scan(file.bytes(0..<size), at: 0, checkCRC: true,
                                                maxRecordSize: maxRecordSize)
        else {
            throw StoreError.badSegment(path: path, reason: "size \(size) != configured segment size \(segmentSize) "
                + "and its first bytes are not a valid record")
        }
        guard followsFullSegment || readOnly else {
            throw StoreError.badSegment(path: path, reason: "size \(size) != configured segment size \(segmentSize) "
                + "(a store written with another segment size?)")
        }
        if readOnly {
            logger.warning("short trailing segment file with records, read as it is", metadata: metadata)
            return .keptShort
        }
        try MappedFile.extend(path: path, to: segmentSize)
        logger.warning("extended a short trailing segment file holding records to the segment size",
                       metadata: metadata)
        return .extended
    }

    private static func holdsOnlyZeros(path: String, size: Int) throws -> Bool {
        guard size > 0 else { return true }
        let file = try MappedFile.openReadOnly(path: path)
        return file.bytes(0..<size).allSatisfy { $0 == 0 }
    }
}
