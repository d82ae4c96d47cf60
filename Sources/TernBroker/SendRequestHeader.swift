import TernRemoting

/// The header of SEND_MESSAGE (10, Java field names) and SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE (310 / 320,
/// short names `a`...`n`), remoting.md §5.1. Values arrive as text (C++ numbers already rendered as decimals).
struct SendRequestHeader {
    var producerGroup: String
    var topic: String
    /// `topic`'s UTF-8 (shared with ``RecentName``'s entry: no copy per send).
    var topicUTF8: [UInt8]
    var defaultTopic: String?
    var defaultTopicQueueNums: Int
    /// Negative: the broker picks the queue.
    var queueId: Int32
    var sysFlag: Int32
    var bornTimestamp: Int64
    var flag: Int32
    /// Encoded property string (`name 0x01 value 0x02`...), as sent, in UTF-8: the draft takes this array.
    var properties: [UInt8]
    var reconsumeTimes: Int32
    var unitMode: Bool
    /// `batch` / `m`: the body is a batch encoding (C++ 1.2.3 sends batches as code 10 with `batch:"1"`).
    var batch: Bool
    var maxReconsumeTimes: Int32?

    /// The field names of one header form.
    struct Names: Sendable {
        let producerGroup, topic, defaultTopic, defaultTopicQueueNums, queueId, sysFlag, bornTimestamp, flag,
            properties, reconsumeTimes, unitMode, maxReconsumeTimes, batch: String
    }

    static let javaNames = Names(
        producerGroup: "producerGroup", topic: "topic", defaultTopic: "defaultTopic",
        defaultTopicQueueNums: "defaultTopicQueueNums", queueId: "queueId", sysFlag: "sysFlag",
        bornTimestamp: "bornTimestamp", flag: "flag", properties: "properties", reconsumeTimes: "reconsumeTimes",
        unitMode: "unitMode", maxReconsumeTimes: "maxReconsumeTimes", batch: "batch")
    static let shortNames = Names(
        producerGroup: "a", topic: "b", defaultTopic: "c", defaultTopicQueueNums: "d", queueId: "e", sysFlag: "f",
        bornTimestamp: "g", flag: "h", properties: "i", reconsumeTimes: "j", unitMode: "k", maxReconsumeTimes: "l",
        batch: "m")

    /// A header field that is missing (when required) or not a number.
    struct Invalid: Error {
        let remark: String
    }

    /// The last topic and producer group seen by one processor.
    struct RecentNames: Sendable {
        let topic = RecentName()
        let producerGroup = RecentName()
    }

    /// Decodes with `names`. Only topic and queueId are required (Java also requires group, default topic,
    /// sysFlag, bornTimestamp and flag; leniency there costs nothing); numeric fields must parse. `recent`:
    /// the caller's last topic and group, reused when the header names them again.
    init(_ fields: RemotingExtFields, names: Names, recent: RecentNames? = nil) throws(Invalid) {
        func number<T: FixedWidthInteger>(_ key: String, _ default: T?) throws(Invalid) -> T {
            // One lookup on the common path (a valid number); the text only for the error.
            if let v = fields.int64(key), let typed = T(exactly: v) { return typed }
            guard let text = fields[key] else {
                if let d = `default` { return d }
                throw Invalid(remark: "the custom field <\(key)> is null")
            }
            throw Invalid(remark: "the custom field <\(key)> is not a valid number: \(text)")
        }
        guard let topic = recent?.topic.name(names.topic, in: fields)
                ?? fields[names.topic].map({ ($0, Array($0.utf8)) }) else {
            throw Invalid(remark: "the custom field <\(names.topic)> is null")
        }
        (self.topic, topicUTF8) = topic
        producerGroup = (recent?.producerGroup.name(names.producerGroup, in: fields)?.name ?? fields[names.producerGroup]) ?? ""
        defaultTopic = fields[names.defaultTopic]
        defaultTopicQueueNums = try number(names.defaultTopicQueueNums, 4)
        queueId = try number(names.queueId, nil)
        sysFlag = try number(names.sysFlag, 0)
        bornTimestamp = try number(names.bornTimestamp, 0)
        flag = try number(names.flag, 0)
        properties = fields.utf8(names.properties) ?? []
        reconsumeTimes = try number(names.reconsumeTimes, 0)
        unitMode = fields.bool(names.unitMode) ?? false
        batch = fields.bool(names.batch) ?? false
        maxReconsumeTimes = fields[names.maxReconsumeTimes] == nil ? nil : try number(names.maxReconsumeTimes, 0) as Int32
    }
}
