import NIOCore
import TernMessage
import TernRemoting

/// The floor's pull answer: a canned FOUND for every PULL_MESSAGE, with the broker's four offset fields (from
/// the same kind of template) and a body of real stored records (valid framing and body CRC, as the broker's
/// log holds them), built once. The body goes out as its own buffer after the head, as the broker's
/// connection writes a pull answer (one gathering write), so the floor pays bytes in, bytes out and nothing else.
///
/// The records' queue offsets are the canned ones, not the request's: `tern-bench consume` counts records
/// without decoding them (`decode: false`), and only the answer's `nextBeginOffset` drives its next pull.
final class FloorPulls: Sendable {
    /// Records per answer at most (a request asking fewer gets a prefix).
    let records: Int
    /// The canned records, back to back; `ends[i]` is where record i ends.
    private let body: ByteBuffer
    private let ends: [Int]

    static let answerFields = RemotingExtFields.Template([
        "suggestWhichBrokerId": .decimal(slot: 0), "nextBeginOffset": .decimal(slot: 1),
        "minOffset": .decimal(slot: 2), "maxOffset": .decimal(slot: 3),
    ])

    /// `records` records of `bodySize` bytes each on `topic`, with a producer's properties (WAIT, UNIQ_KEY).
    init(records: Int, bodySize: Int, topic: String) {
        self.records = records
        let host = HostAddress(ip: (127, 0, 0, 1), port: 10911)
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for i in 0..<records {
            let key = String(repeating: "0", count: 24) + String(0x1000_0000 + i, radix: 16, uppercase: true)
            let draft = MessageDraft(
                topic: Array(topic.utf8), queueId: 0, bornTimestamp: 1_700_000_000_000, bornHost: host, storeHost: host,
                body: [UInt8](repeating: UInt8(ascii: "x"), count: bodySize),
                properties: MessageProperties.encode([(MessageProperties.wait, "true"), (MessageProperties.uniqueKey, key)]))
            bytes += draft.encoded(queueOffset: Int64(i), physicalOffset: Int64(bytes.count), storeTimestamp: 1_700_000_000_001)
            ends.append(bytes.count)
        }
        body = ByteBuffer(bytes: bytes)
        self.ends = ends
    }

    /// The answer to a pull of `request`: FOUND with min(maxMsgNums, records) records, the next offset past them;
    /// SYSTEM_ERROR when a field the broker requires is absent (so a malformed pull is noticed).
    func answer(_ request: RemotingCommand) -> RemotingCommand {
        let f = request.extFields
        guard f["topic"] != nil, f["consumerGroup"] != nil, let offset = f.int64("queueOffset"),
              let asked = f.int64("maxMsgNums"), asked > 0 else {
            return RemotingCommand(code: ResponseCode.systemError, flag: .response, remark: "malformed pull")
        }
        let n = Int(min(asked, Int64(records)))
        let next = offset + Int64(n)
        let fields = RemotingExtFields(Self.answerFields, words: 0, UInt64(bitPattern: next), 0, UInt64(bitPattern: next + 1_000_000))
        return RemotingCommand(code: ResponseCode.success, flag: .response, remark: "FOUND", extFields: fields,
                               body: body.getSlice(at: body.readerIndex, length: ends[n - 1]))
    }
}
