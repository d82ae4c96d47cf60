/// RESET_CONSUMER_CLIENT_OFFSET (220) body and INVOKE_BROKER_TO_RESET_OFFSET (222) answer: the new offset of
/// each queue. Java's `ResetOffsetBody` is fastjson with `MessageQueue` keys, `{"offsetTable":{{mq}:5}}`;
/// the C++ client reads Java's `ResetOffsetBodyForC`, a list of `MessageQueueForC`
/// (`{"offsetTable":[{"brokerName":..,"offset":5,"queueId":0,"topic":..}]}`).
public struct ResetOffsetBody: FastJSONBody, Equatable {
    public var offsetTable: [(queue: MessageQueue, offset: Int64)]

    public init(offsetTable: [(queue: MessageQueue, offset: Int64)]) { self.offsetTable = offsetTable }

    public static func == (a: Self, b: Self) -> Bool {
        a.offsetTable.elementsEqual(b.offsetTable) { $0.queue == $1.queue && $0.offset == $1.offset }
    }

    public var fastJSON: FastJSON {
        .bean(["offsetTable": .object(offsetTable.map { .init($0.queue.fastJSON, .integer($0.offset)) })])
    }

    /// The C++ client's form.
    public var fastJSONForC: FastJSON {
        .bean(["offsetTable": .array(offsetTable.map { e in
            .bean(["brokerName": .string(e.queue.brokerName), "offset": .integer(e.offset),
                   "queueId": .integer(Int64(e.queue.queueId)), "topic": .string(e.queue.topic)])
        })])
    }

    /// Reads either form.
    public init(fastJSON v: FastJSON) throws {
        let t = "ResetOffsetBody"
        if let list = v["offsetTable"]?.elements {
            offsetTable = try list.map { e in
                (try MessageQueue(fastJSON: e), try e.field("offset", of: t, \.int64))
            }
        } else {
            offsetTable = try v.field("offsetTable", of: t, \.members).map { m in
                guard let offset = m.value.int64 else { throw FastJSONError.field("offsetTable", in: t) }
                return (try MessageQueue(fastJSON: m.key), offset)
            }
        }
    }
}
