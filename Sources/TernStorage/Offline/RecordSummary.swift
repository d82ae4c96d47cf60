import TernChecksum
import TernMessage

/// One commit-log record as `tern-inspect dump` / `find-key` show it: every header field, the well-known
/// properties pulled out, all properties in stored order, and a printable preview of the body's first bytes.
/// A copy: it owns no pointer into the mapped log.
public struct RecordSummary: Sendable, Codable, Equatable {
    public struct Property: Sendable, Codable, Equatable {
        public var name: String
        public var value: String
    }

    public var physicalOffset: Int64
    public var size: Int32
    /// Offset message id (store host + physical offset), as clients see it.
    public var messageId: String
    public var topic: String
    public var queueId: Int32
    public var queueOffset: Int64
    public var flag: Int32
    public var sysFlag: Int32
    /// "NOT", "PREPARED", "COMMIT" or "ROLLBACK" (SYSFLAG bits 2-3).
    public var transactionType: String
    public var bornTimestamp: Int64
    public var storeTimestamp: Int64
    public var bornHost: String
    public var storeHost: String
    public var reconsumeTimes: Int32
    public var preparedTransactionOffset: Int64
    public var tags: String?
    public var keys: String?
    public var uniqueKey: String?
    public var properties: [Property]
    public var bodyLength: Int
    /// True when the stored BODYCRC matches the body.
    public var bodyCRCValid: Bool
    /// The body's first bytes decoded as UTF-8, control characters shown as ".".
    public var bodyPreview: String

    /// Copies the fields out of a record that `RecordScanner` accepted (structure validated, CRC not required).
    init(_ r: RecordView, at offset: Int64, bodyBytes: Int) {
        physicalOffset = offset
        size = r.totalSize
        messageId = MessageId.offsetId(storeHost: r.storeHost, physicalOffset: offset)
        topic = r.topicString
        queueId = r.queueId
        queueOffset = r.queueOffset
        flag = r.flag
        sysFlag = r.sysFlag
        transactionType = Self.transactionName(r.sysFlag)
        bornTimestamp = r.bornTimestamp
        storeTimestamp = r.storeTimestamp
        bornHost = r.bornHost.description
        storeHost = r.storeHost.description
        reconsumeTimes = r.reconsumeTimes
        preparedTransactionOffset = r.preparedTransactionOffset
        properties = MessageProperties.decode(r.properties).map { Property(name: $0.0, value: $0.1) }
        // Last occurrence wins, as in the clients' property maps.
        tags = properties.last { $0.name == MessageProperties.tags }?.value
        keys = properties.last { $0.name == MessageProperties.keys }?.value
        uniqueKey = properties.last { $0.name == MessageProperties.uniqueKey }?.value
        let body = r.body
        bodyLength = body.count
        bodyCRCValid = CRC32.rocketmqBodyCRC(body) == r.bodyCRC
        bodyPreview = Self.printable(UnsafeRawBufferPointer(rebasing: body.prefix(max(0, bodyBytes))))
    }

    static func transactionName(_ sysFlag: Int32) -> String {
        switch SysFlag.transactionType(sysFlag) {
        case SysFlag.transactionPrepared: "PREPARED"
        case SysFlag.transactionCommit: "COMMIT"
        case SysFlag.transactionRollback: "ROLLBACK"
        default: "NOT"
        }
    }

    /// UTF-8 with repair (a cut multi-byte character becomes U+FFFD); control characters become ".".
    static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        var out = String.UnicodeScalarView()
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            out.append(scalar.properties.generalCategory == .control ? "." : scalar)
        }
        return String(out)
    }
}
