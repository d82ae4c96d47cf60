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

    /// The field names of one header form, located in a table in one pass (``RemotingExtFields/KeySet``).
    /// A class: every send picks one of the two shared sets, and a struct of 13 Strings and a key set was
    /// copied (each heap String retained and released) on every pick.
    final class Names: Sendable {
        let producerGroup, topic, defaultTopic, defaultTopicQueueNums, queueId, sysFlag, bornTimestamp, flag,
            properties, reconsumeTimes, unitMode, maxReconsumeTimes, batch: String
        /// The names above in this order (``Field``).
        let set: RemotingExtFields.KeySet

        init(producerGroup: String, topic: String, defaultTopic: String, defaultTopicQueueNums: String,
             queueId: String, sysFlag: String, bornTimestamp: String, flag: String, properties: String,
             reconsumeTimes: String, unitMode: String, maxReconsumeTimes: String, batch: String) {
            self.producerGroup = producerGroup
            self.topic = topic
            self.defaultTopic = defaultTopic
            self.defaultTopicQueueNums = defaultTopicQueueNums
            self.queueId = queueId
            self.sysFlag = sysFlag
            self.bornTimestamp = bornTimestamp
            self.flag = flag
            self.properties = properties
            self.reconsumeTimes = reconsumeTimes
            self.unitMode = unitMode
            self.maxReconsumeTimes = maxReconsumeTimes
            self.batch = batch
            set = RemotingExtFields.KeySet([
                producerGroup, topic, defaultTopic, defaultTopicQueueNums, queueId, sysFlag, bornTimestamp, flag,
                properties, reconsumeTimes, unitMode, maxReconsumeTimes, batch,
            ])
        }

        /// The position of each name in ``set``.
        enum Field: Int {
            case producerGroup, topic, defaultTopic, defaultTopicQueueNums, queueId, sysFlag, bornTimestamp, flag,
                properties, reconsumeTimes, unitMode, maxReconsumeTimes, batch
        }
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
    /// the caller's last topic and group, reused when the header names them again. `spareProperties`: an
    /// empty array to decode the properties into (a recycled one allocates nothing when its room suffices).
    init(_ fields: RemotingExtFields, names: Names, recent: RecentNames? = nil,
         spareProperties: consuming [UInt8] = []) throws(Invalid) {
        let at = fields.locate(names.set)
        func index(_ field: Names.Field) -> Int? { at[field.rawValue] }
        guard let topicAt = index(.topic) else { throw Invalid(remark: "the custom field <\(names.topic)> is null") }
        // Every check that may throw runs before the first reference-counted field is stored: a throw after
        // that point made the compiler build the header in a temporary and copy it out (each String and
        // array retained and released once more per send).
        let defaultTopicQueueNums: Int = try Self.number(fields, at: index(.defaultTopicQueueNums), names.defaultTopicQueueNums, 4)
        let queueId: Int32 = try Self.number(fields, at: index(.queueId), names.queueId, nil)
        let sysFlag: Int32 = try Self.number(fields, at: index(.sysFlag), names.sysFlag, 0)
        let bornTimestamp: Int64 = try Self.number(fields, at: index(.bornTimestamp), names.bornTimestamp, 0)
        let flag: Int32 = try Self.number(fields, at: index(.flag), names.flag, 0)
        let reconsumeTimes: Int32 = try Self.number(fields, at: index(.reconsumeTimes), names.reconsumeTimes, 0)
        let maxReconsumeTimes: Int32? = index(.maxReconsumeTimes) == nil ? nil
            : try Self.number(fields, at: index(.maxReconsumeTimes), names.maxReconsumeTimes, 0) as Int32
        self.defaultTopicQueueNums = defaultTopicQueueNums
        self.queueId = queueId
        self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp
        self.flag = flag
        self.reconsumeTimes = reconsumeTimes
        self.maxReconsumeTimes = maxReconsumeTimes
        // Plain reads, no method references or closures over `fields` (each would hold a copy of the table).
        if let i = index(.unitMode) { unitMode = fields.bool(at: i) ?? false } else { unitMode = false }
        if let i = index(.batch) { batch = fields.bool(at: i) ?? false } else { batch = false }
        (topic, topicUTF8) = recent?.topic.name(at: topicAt, in: fields) ?? Self.name(at: topicAt, in: fields)
        if let i = index(.producerGroup) {
            producerGroup = recent?.producerGroup.name(at: i, in: fields).name ?? fields.string(at: i)
        } else {
            producerGroup = ""
        }
        if let i = index(.defaultTopic) { defaultTopic = fields.string(at: i) } else { defaultTopic = nil }
        if let at = index(.properties) {
            spareProperties.removeAll(keepingCapacity: true)
            fields.appendUTF8(at: at, to: &spareProperties)
            properties = consume spareProperties
        } else {
            properties = []
        }
    }

    /// Field `index` of `fields` as a number (`default` when absent; nil: required). Static, with `fields`
    /// passed: a nested function reading the initializer's `fields` captured a copy of the table per send.
    private static func number<T: FixedWidthInteger>(_ fields: borrowing RemotingExtFields, at index: Int?, _ key: String,
                                                     _ default: T?) throws(Invalid) -> T {
        guard let i = index else {
            if let d = `default` { return d }
            throw Invalid(remark: "the custom field <\(key)> is null")
        }
        if let v = fields.int64(at: i), let typed = T(exactly: v) { return typed }
        throw Invalid(remark: "the custom field <\(key)> is not a valid number: \(fields.string(at: i))")
    }

    /// Field `index`'s value and its UTF-8 (no cache).
    static func name(at index: Int, in fields: RemotingExtFields) -> (name: String, utf8: [UInt8]) {
        let name = fields.string(at: index)
        return (name, Array(name.utf8))
    }
}
