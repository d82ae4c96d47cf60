import CompressNIO
import NIOCore
import TernMessage

/// One message as read back from a broker (pull, query by key, view by id).
public struct ReceivedMessage: Sendable, Equatable {
    public var topic: String
    public var queueId: Int32
    public var queueOffset: Int64
    /// Commit-log offset of the record.
    public var physicalOffset: Int64
    public var flag: Int32
    public var sysFlag: Int32
    /// Body, inflated when the record was stored compressed (sysFlag bit 0).
    public var body: [UInt8]
    public var properties: [String: String]
    public var bornTimestamp: Int64
    public var storeTimestamp: Int64
    public var bornHost: String
    public var storeHost: String
    public var reconsumeTimes: Int32
    /// Offset message id: STOREHOST + commit-log offset as 32 hex chars.
    public var msgId: String

    public var tags: String? { properties[MessageProperties.tags] }
    /// `KEYS` split on spaces.
    public var keys: [String] { properties[MessageProperties.keys].map { $0.split(separator: " ").map(String.init) } ?? [] }
    /// The producer's `UNIQ_KEY` (what RocketMQ clients show as the message id), if any.
    public var uniqueKey: String? { properties[MessageProperties.uniqueKey] }
}

/// Decoding of concatenated stored records (pull, QUERY_MESSAGE and VIEW_MESSAGE_BY_ID bodies).
public enum RecordDecoder {
    /// Every record in `body`, in order. Throws ``ClientError/badResponse(_:)`` on a malformed record.
    public static func messages(in body: ByteBuffer?, checkCRC: Bool = true) throws -> [ReceivedMessage] {
        var out: [ReceivedMessage] = []
        try forEachRecord(in: body, checkCRC: checkCRC) { view in out.append(try decode(view)) }
        return out
    }

    /// Number of records in `body` (validated, not decoded).
    public static func count(in body: ByteBuffer?) throws -> Int {
        var n = 0
        try forEachRecord(in: body, checkCRC: false) { _ in n += 1 }
        return n
    }

    /// Visits the body of every record in `body`, in order, as stored (a compressed body stays compressed),
    /// without decoding the rest: no allocation per record (latency probes that read a few body bytes).
    public static func forEachBody(in body: ByteBuffer?, _ visit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try forEachRecord(in: body, checkCRC: false) { try visit($0.body) }
    }

    static func forEachRecord(in body: ByteBuffer?, checkCRC: Bool, _ visit: (RecordView) throws -> Void) throws {
        guard let body, body.readableBytes > 0 else { return }
        try body.withUnsafeReadableBytes { bytes in
            var at = 0
            while at < bytes.count {
                switch RecordScanner.scan(bytes, at: at, checkCRC: checkCRC, maxRecordSize: bytes.count - at) {
                case .record(let size):
                    try visit(RecordView(UnsafeRawBufferPointer(rebasing: bytes[at ..< at + size])))
                    at += size
                case .invalid(let error):
                    throw ClientError.badResponse("record at byte \(at): \(error)")
                case .blank, .endOfData:
                    throw ClientError.badResponse("record at byte \(at): not a message")
                }
            }
        }
    }

    static func decode(_ r: RecordView) throws -> ReceivedMessage {
        var properties: [String: String] = [:]
        MessageProperties.forEachEntry(in: r.properties) { name, value in
            properties[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            return true
        }
        var body = Array(r.body)
        if r.sysFlag & SysFlag.compressed != 0 { body = try Zlib.inflate(body) }
        return ReceivedMessage(
            topic: r.topicString, queueId: r.queueId, queueOffset: r.queueOffset, physicalOffset: r.physicalOffset,
            flag: r.flag, sysFlag: r.sysFlag, body: body, properties: properties,
            bornTimestamp: r.bornTimestamp, storeTimestamp: r.storeTimestamp,
            bornHost: r.bornHost.description, storeHost: r.storeHost.description,
            reconsumeTimes: r.reconsumeTimes,
            msgId: MessageId.offsetId(storeHost: r.storeHost, physicalOffset: r.physicalOffset))
    }
}

/// zlib format (2-byte header, deflate, Adler-32), as Java's `Deflater` / C++ `compress2` write it.
enum Zlib {
    static func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        do {
            var out = try input.decompress(with: .zlib(), maxSize: 64 << 20)
            return out.readBytes(length: out.readableBytes) ?? []
        } catch {
            throw ClientError.badResponse("compressed body does not inflate: \(error)")
        }
    }

    /// Level 5, the RocketMQ clients' default.
    static func deflate(_ body: ByteBuffer) throws -> ByteBuffer {
        var input = body
        return try input.compress(with: .zlib(configuration: .init(compressionLevel: .compressionLevel5)))
    }
}
