import TernChecksum

/// RocketMQ 4.x stored-message record, v4 layout with IPv4 hosts (see shared/reference/message-format.md §1).
/// Big-endian throughout.
///
///     0 TOTALSIZE(4) 4 MAGIC(4) 8 BODYCRC(4) 12 QUEUEID(4) 16 FLAG(4) 20 QUEUEOFFSET(8) 28 PHYSICALOFFSET(8)
///     36 SYSFLAG(4) 40 BORNTIMESTAMP(8) 48 BORNHOST(8) 56 STORETIMESTAMP(8) 64 STOREHOST(8)
///     72 RECONSUMETIMES(4) 76 PREPAREDTXOFFSET(8) 84 BODYLEN(4)+BODY, TOPICLEN(1)+TOPIC, PROPLEN(2)+PROPS
///     TOTALSIZE = 91 + body + topic + properties
///
/// API CONTRACT — implemented in TernMessage.
public enum RecordLayout {
    public static let messageMagic: UInt32 = 0xDAA3_20A7
    public static let blankMagic: UInt32 = 0xCBD4_3194
    public static let fixedSize = 91
    public static let maxTopicLength = 127
    public static let maxPropertiesLength = 32767
    public static let totalSizeOffset = 0, magicOffset = 4, bodyCRCOffset = 8, queueIdOffset = 12, flagOffset = 16
    public static let queueOffsetOffset = 20, physicalOffsetOffset = 28, sysFlagOffset = 36
    public static let bornTimestampOffset = 40, bornHostOffset = 48, storeTimestampOffset = 56, storeHostOffset = 64
    public static let reconsumeTimesOffset = 72, preparedTransactionOffsetOffset = 76, bodyLengthOffset = 84
    /// Size of a record with these variable parts.
    public static func recordSize(bodyLength: Int, topicLength: Int, propertiesLength: Int) -> Int {
        fixedSize + bodyLength + topicLength + propertiesLength
    }
}

/// SYSFLAG bits.
public enum SysFlag {
    public static let compressed: Int32 = 0x1
    public static let multiTags: Int32 = 0x2
    public static let transactionMask: Int32 = 0xC
    public static let transactionNot: Int32 = 0x0
    public static let transactionPrepared: Int32 = 0x4
    public static let transactionCommit: Int32 = 0x8
    public static let transactionRollback: Int32 = 0xC
    public static let bornHostV6: Int32 = 0x10
    public static let storeHostV6: Int32 = 0x20
    public static func transactionType(_ sysFlag: Int32) -> Int32 { sysFlag & transactionMask }
}

/// An IPv4 socket address as stored: 4 address bytes (network order) + 4-byte big-endian port.
public struct HostAddress: Sendable, Hashable {
    public var ip: (UInt8, UInt8, UInt8, UInt8)
    public var port: Int32
    public init(ip: (UInt8, UInt8, UInt8, UInt8), port: Int32) { self.ip = ip; self.port = port }
    /// "a.b.c.d:port"; nil when malformed. API CONTRACT.
    public init?(_ text: String) {
        guard let parsed = HostAddressParser.parse(text) else { return nil }
        self = parsed
    }
    public var description: String { "\(ip.0).\(ip.1).\(ip.2).\(ip.3):\(port)" }
    public static func == (a: HostAddress, b: HostAddress) -> Bool { a.ip == b.ip && a.port == b.port }
    public func hash(into h: inout Hasher) { h.combine(ip.0); h.combine(ip.1); h.combine(ip.2); h.combine(ip.3); h.combine(port) }
}

/// Everything the producer / broker decides about a message before it is placed in the log.
/// The store fills QUEUEOFFSET, PHYSICALOFFSET and STORETIMESTAMP under its append lock.
public struct MessageDraft: Sendable {
    public var topic: [UInt8]          // UTF-8, 1...127 bytes
    public var queueId: Int32
    public var flag: Int32
    public var sysFlag: Int32
    public var bornTimestamp: Int64
    public var bornHost: HostAddress
    public var storeHost: HostAddress
    public var reconsumeTimes: Int32
    public var preparedTransactionOffset: Int64
    /// Set through an initializer, which computes `bodyCRC` from it.
    public private(set) var body: MessageBody
    public var properties: [UInt8]     // encoded with MessageProperties.encode
    /// CRC32 of body & 0x7FFFFFFF, computed once (outside the store's lock).
    public var bodyCRC: UInt32
    /// `body.count`, kept with the CRC: a shared body's count goes through its existential, and each read
    /// copied (retained and released) it; the append reads the length four times.
    public private(set) var bodyLength: Int

    public init(topic: [UInt8], queueId: Int32, flag: Int32 = 0, sysFlag: Int32 = 0, bornTimestamp: Int64,
                bornHost: HostAddress, storeHost: HostAddress, reconsumeTimes: Int32 = 0,
                preparedTransactionOffset: Int64 = 0, body: [UInt8], properties: [UInt8]) {
        self.init(topic: topic, queueId: queueId, flag: flag, sysFlag: sysFlag, bornTimestamp: bornTimestamp,
                  bornHost: bornHost, storeHost: storeHost, reconsumeTimes: reconsumeTimes,
                  preparedTransactionOffset: preparedTransactionOffset, body: .bytes(body), properties: properties)
    }

    /// A draft whose body may be shared with its receive buffer (`.shared`): the encoder copies it from there.
    public init(topic: [UInt8], queueId: Int32, flag: Int32 = 0, sysFlag: Int32 = 0, bornTimestamp: Int64,
                bornHost: HostAddress, storeHost: HostAddress, reconsumeTimes: Int32 = 0,
                preparedTransactionOffset: Int64 = 0, body: MessageBody, properties: [UInt8]) {
        self.topic = topic; self.queueId = queueId; self.flag = flag; self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp; self.bornHost = bornHost; self.storeHost = storeHost
        self.reconsumeTimes = reconsumeTimes; self.preparedTransactionOffset = preparedTransactionOffset
        self.body = body; self.properties = properties
        (bodyCRC, bodyLength) = body.withUnsafeBytes { (CRC32.rocketmqBodyCRC($0), $0.count) }
    }

    public var encodedSize: Int {
        RecordLayout.recordSize(bodyLength: bodyLength, topicLength: topic.count, propertiesLength: properties.count)
    }

    /// Writes the whole record into `destination` (precondition: destination.count >= encodedSize).
    /// API CONTRACT.
    public func encode(into destination: UnsafeMutableRawBufferPointer, queueOffset: Int64, physicalOffset: Int64,
                       storeTimestamp: Int64) {
        writeRecord(into: destination, queueOffset: queueOffset, physicalOffset: physicalOffset,
                    storeTimestamp: storeTimestamp)
    }
    /// Convenience for tests and tools.
    public func encoded(queueOffset: Int64, physicalOffset: Int64, storeTimestamp: Int64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: encodedSize)
        out.withUnsafeMutableBytes { encode(into: $0, queueOffset: queueOffset, physicalOffset: physicalOffset, storeTimestamp: storeTimestamp) }
        return out
    }
}

/// A read-only, non-owning view of one record in memory (e.g. a slice of the mapped commit log).
/// Accessors read the fixed fields at their offsets; precondition: the view was produced by `RecordScanner`
/// (or is otherwise known to hold a whole, valid record). API CONTRACT.
public struct RecordView {
    public let bytes: UnsafeRawBufferPointer
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    public var totalSize: Int32 { bytes.loadBigEndian(at: RecordLayout.totalSizeOffset) }
    public var magic: UInt32 { bytes.loadBigEndian(at: RecordLayout.magicOffset) }
    public var bodyCRC: UInt32 { bytes.loadBigEndian(at: RecordLayout.bodyCRCOffset) }
    public var queueId: Int32 { bytes.loadBigEndian(at: RecordLayout.queueIdOffset) }
    public var flag: Int32 { bytes.loadBigEndian(at: RecordLayout.flagOffset) }
    public var queueOffset: Int64 { bytes.loadBigEndian(at: RecordLayout.queueOffsetOffset) }
    public var physicalOffset: Int64 { bytes.loadBigEndian(at: RecordLayout.physicalOffsetOffset) }
    public var sysFlag: Int32 { bytes.loadBigEndian(at: RecordLayout.sysFlagOffset) }
    public var bornTimestamp: Int64 { bytes.loadBigEndian(at: RecordLayout.bornTimestampOffset) }
    public var bornHost: HostAddress { bytes.loadHost(at: RecordLayout.bornHostOffset) }
    public var storeTimestamp: Int64 { bytes.loadBigEndian(at: RecordLayout.storeTimestampOffset) }
    public var storeHost: HostAddress { bytes.loadHost(at: RecordLayout.storeHostOffset) }
    public var reconsumeTimes: Int32 { bytes.loadBigEndian(at: RecordLayout.reconsumeTimesOffset) }
    public var preparedTransactionOffset: Int64 { bytes.loadBigEndian(at: RecordLayout.preparedTransactionOffsetOffset) }
    public var body: UnsafeRawBufferPointer { let v = RecordVariableLayout(bytes); return bytes.slice(v.bodyOffset, v.bodyLength) }
    public var topic: UnsafeRawBufferPointer { let v = RecordVariableLayout(bytes); return bytes.slice(v.topicOffset, v.topicLength) }
    public var topicString: String { String(decoding: topic, as: UTF8.self) }
    public var properties: UnsafeRawBufferPointer { let v = RecordVariableLayout(bytes); return bytes.slice(v.propertiesOffset, v.propertiesLength) }
}

/// Why a scan stopped (one name per way, after Redpanda's parser_errc).
public enum RecordScanError: Error, Equatable, Sendable {
    case truncatedHeader          // fewer than 8 bytes (size + magic) left before the limit
    case sizeOutOfBounds(Int32)   // TOTALSIZE < fixedSize or past the limit / max record size
    case badMagic(UInt32)
    case lengthMismatch           // TOTALSIZE disagrees with 91 + body + topic + properties
    case topicLengthInvalid
    case bodyCRCMismatch(stored: UInt32, computed: UInt32)
}

/// What lies at a position of a segment.
public enum RecordScanResult: Equatable, Sendable {
    case record(size: Int)     // a whole valid record of `size` bytes
    case blank(size: Int)      // end-of-segment filler (blank magic); the next record is in the next segment
    case endOfData             // TOTALSIZE == 0 and MAGIC == 0: nothing written here yet
    case invalid(RecordScanError)
}

/// Validates the record at `offset` of `bytes` (offsets relative to `bytes`). API CONTRACT.
public enum RecordScanner {
    /// `checkCRC`: recompute the body CRC (recovery and verify do, the hot dispatcher does not).
    /// `maxRecordSize`: upper bound on TOTALSIZE.
    public static func scan(_ bytes: UnsafeRawBufferPointer, at offset: Int, checkCRC: Bool, maxRecordSize: Int) -> RecordScanResult {
        RecordValidator.scan(bytes, at: offset, checkCRC: checkCRC, maxRecordSize: maxRecordSize)
    }
}

/// Offset message id: STOREHOST ip(4) + port(4) + commit-log offset(8) as 32 uppercase hex chars. API CONTRACT.
public enum MessageId {
    public static func offsetId(storeHost: HostAddress, physicalOffset: Int64) -> String {
        OffsetIdCodec.encode(storeHost: storeHost, physicalOffset: physicalOffset)
    }
    /// nil when `id` is not 32 hex chars.
    public static func decodeOffsetId(_ id: String) -> (storeHost: HostAddress, physicalOffset: Int64)? { OffsetIdCodec.decode(id) }
}
