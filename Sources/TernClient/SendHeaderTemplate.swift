import TernMessage
import TernRemoting

/// The send header of one producer for single messages of one topic, sysFlag, flag and properties before the
/// UNIQ_KEY, laid out once: per message only the queue id, the born timestamp and the UNIQ_KEY's two words
/// are filled in, and the JSON header copies the rest pre-rendered (no field table, no String, no generic
/// integer rendering per message). Field order, names and text are those of ``PreparedSend/header(queueId:options:bornTimestamp:)``'s
/// field-by-field path, so the bytes on the wire are the same.
///
/// Immutable after init.
final class SendHeaderTemplate: Sendable {
    let topic: String
    let sysFlag: Int32
    let flag: Int32
    /// The properties' bytes before the UNIQ_KEY's value: user properties and WAIT, then `UNIQ_KEY` 0x01.
    let propertiesBefore: [UInt8]
    private let template: RemotingExtFields.Template

    /// `entries`: the properties before the UNIQ_KEY, as ``Producer`` orders them.
    init(topic: String, sysFlag: Int32, flag: Int32, entries: [(String, String)], options: ProducerOptions) {
        self.topic = topic
        self.sysFlag = sysFlag
        self.flag = flag
        var before = MessageProperties.encode(entries)
        before += MessageProperties.uniqueKey.utf8
        before.append(MessageProperties.nameSeparator)
        propertiesBefore = before
        let v2 = options.useV2Header
        template = RemotingExtFields.Template([
            v2 ? "a" : "producerGroup": .text(options.group),
            v2 ? "b" : "topic": .text(topic),
            v2 ? "c" : "defaultTopic": .text(options.defaultTopic),
            v2 ? "d" : "defaultTopicQueueNums": .text(String(options.defaultTopicQueueNums)),
            v2 ? "e" : "queueId": .decimal(slot: 0),
            v2 ? "f" : "sysFlag": .text(String(sysFlag)),
            v2 ? "g" : "bornTimestamp": .decimal(slot: 1),
            v2 ? "h" : "flag": .text(String(flag)),
            v2 ? "i" : "properties": .framedHex128(prefix: String(decoding: before, as: UTF8.self), slot: 2,
                                                   suffix: String(decoding: [MessageProperties.entrySeparator], as: UTF8.self)),
            v2 ? "j" : "reconsumeTimes": .text("0"),
            v2 ? "k" : "unitMode": .text("false"),
            v2 ? "m" : "batch": .text("false"),
        ])
    }

    /// True when `send` is a single message this template was made for.
    func describes(_ send: PreparedSend) -> Bool {
        !send.batch && send.sysFlag == sysFlag && send.flag == flag && send.topic == topic
    }

    func fields(queueId: Int32, bornTimestamp: Int64, uniqueKey: (UInt64, UInt64)) -> RemotingExtFields {
        RemotingExtFields(template, words: UInt64(bitPattern: Int64(queueId)), UInt64(bitPattern: bornTimestamp),
                          uniqueKey.0, uniqueKey.1)
    }
}
