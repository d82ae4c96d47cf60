/// One record of a message-trace body (features.md §6): records separated by 0x02, fields by 0x01, the
/// first field naming the type. `Pub`, `SubBefore`, `SubAfter` and `EndTransaction` are what RocketMQ
/// clients write; `Store` is the broker's own event (Tern), which RocketMQ's trace readers skip as an
/// unknown type.
///
/// Fields by type (positions after the type):
/// - Pub: timestamp, region, group, topic, msgId, tags, keys, storeHost, bodyLength, costTime, msgType,
///   offsetMsgId, success
/// - SubBefore: timestamp, region, group, requestId, msgId, retryTimes, keys
/// - SubAfter: requestId, msgId, costTime, success, keys[, contextCode[, timestamp, group]]
/// - EndTransaction: timestamp, region, group, topic, msgId, tags, keys, storeHost, msgType, transactionId,
///   state, fromCheck
/// - Store: timestamp, region, brokerName, topic, msgId, offsetMsgId, queueId, queueOffset, storeHost,
///   costTime (store time - born time), success
public struct TraceRecord: Sendable, Equatable {
    public var type: String
    public var timestamp: Int64?
    public var region = ""
    /// Producer / consumer group (Store: the broker name).
    public var group = ""
    public var topic = ""
    public var msgId = ""
    public var offsetMsgId = ""
    public var tags = ""
    public var keys = ""
    public var storeHost = ""
    public var costMillis: Int64?
    public var success: Bool?
    /// SubBefore / SubAfter: the consume request the two records share.
    public var requestId = ""
    public var retryTimes: Int?
    /// EndTransaction: transaction state (COMMIT_MESSAGE, ROLLBACK_MESSAGE, UNKNOW).
    public var transactionState = ""
    /// Store: queue id and offset.
    public var queueId: Int?
    public var queueOffset: Int64?

    public static let pub = "Pub", subBefore = "SubBefore", subAfter = "SubAfter"
    public static let endTransaction = "EndTransaction", store = "Store"

    public init(type: String) { self.type = type }

    /// The records of a (decompressed) trace message body; fragments with an unknown type or too few fields
    /// are skipped.
    public static func decode(_ body: [UInt8]) -> [TraceRecord] {
        body.split(separator: 0x02).compactMap { line in
            let f = line.split(separator: 0x01, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            return record(f)
        }
    }

    private static func record(_ f: [String]) -> TraceRecord? {
        guard let type = f.first else { return nil }
        func at(_ i: Int) -> String { i < f.count ? f[i] : "" }
        var r = TraceRecord(type: type.trimmingWhitespace)
        switch r.type {
        case pub where f.count >= 14:
            (r.timestamp, r.region, r.group, r.topic, r.msgId, r.tags, r.keys, r.storeHost) =
                (Int64(at(1)), at(2), at(3), at(4), at(5), at(6), at(7), at(8))
            (r.costMillis, r.offsetMsgId, r.success) = (Int64(at(10)), at(12), Bool(at(13)))
        case subBefore where f.count >= 8:
            (r.timestamp, r.region, r.group, r.requestId, r.msgId, r.retryTimes, r.keys) =
                (Int64(at(1)), at(2), at(3), at(4), at(5), Int(at(6)), at(7))
        case subAfter where f.count >= 6:
            (r.requestId, r.msgId, r.costMillis, r.success, r.keys) = (at(1), at(2), Int64(at(3)), Bool(at(4)), at(5))
            if f.count >= 9 { (r.timestamp, r.group) = (Int64(at(7)), at(8)) }
        case endTransaction where f.count >= 13:
            (r.timestamp, r.region, r.group, r.topic, r.msgId, r.tags, r.keys, r.storeHost) =
                (Int64(at(1)), at(2), at(3), at(4), at(5), at(6), at(7), at(8))
            r.transactionState = at(11)
        case store where f.count >= 12:
            (r.timestamp, r.region, r.group, r.topic, r.msgId, r.offsetMsgId) = (Int64(at(1)), at(2), at(3), at(4), at(5), at(6))
            (r.queueId, r.queueOffset, r.storeHost, r.costMillis, r.success) = (Int(at(7)), Int64(at(8)), at(9), Int64(at(10)), Bool(at(11)))
        default:
            return nil
        }
        return r
    }

    /// The broker's Store record, in the layout `decode` reads.
    public static func encodeStore(timestamp: Int64, region: String, brokerName: String, topic: String, msgId: String,
                                   offsetMsgId: String, queueId: Int32, queueOffset: Int64, storeHost: String,
                                   costMillis: Int64, success: Bool) -> [UInt8] {
        let fields = [store, String(timestamp), region, brokerName, topic, msgId, offsetMsgId, String(queueId),
                      String(queueOffset), storeHost, String(costMillis), String(success)]
        return Array(fields.joined(separator: "\u{01}").utf8) + [0x02]
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
