import TernTestSupport
import Testing
import TernChecksum
import TernMessage

@Suite struct RecordCodecTests {
    /// The expected record, written field by field from message-format.md §1 (no encoder involved).
    @Test func goldenBytes() {
        let properties: [UInt8] = Array("KEYS\u{1}order-1\u{2}TAGS\u{1}TagA\u{2}UNIQ_KEY\u{1}0A00000700002A9F0000000000000001\u{2}".utf8)
        var b = ByteBuilder()
        b.be(Int32(91 + 5 + 9 + properties.count))    // TOTALSIZE
        b.be(UInt32(0xDAA3_20A7))                      // MAGICCODE
        b.be(UInt32(0x77D1_8982))                      // BODYCRC = crc32("Hello") & 0x7FFFFFFF
        b.be(Int32(3))                                 // QUEUEID
        b.be(Int32(0))                                 // FLAG
        b.be(Int64(42))                                // QUEUEOFFSET
        b.be(Int64(1_073_741_824 + 4096))              // PHYSICALOFFSET
        b.be(Int32(0))                                 // SYSFLAG
        b.be(Int64(1_700_000_000_123))                 // BORNTIMESTAMP
        b.raw([10, 0, 0, 7]); b.be(Int32(53211))       // BORNHOST
        b.be(Int64(1_700_000_000_456))                 // STORETIMESTAMP
        b.raw([192, 168, 1, 10]); b.be(Int32(10911))   // STOREHOST
        b.be(Int32(0))                                 // RECONSUMETIMES
        b.be(Int64(0))                                 // PREPARED TRANSACTION OFFSET
        b.be(Int32(5)); b.raw("Hello")                 // BODYLENGTH + BODY
        b.be(UInt8(9)); b.raw("TopicTest")             // TOPICLENGTH + TOPIC
        b.be(Int16(properties.count)); b.raw(properties) // PROPERTIESLENGTH + PROPERTIES

        let draft = sampleDraft()
        #expect(draft.properties == properties)
        #expect(draft.bodyCRC == 0x77D1_8982)
        #expect(draft.encodedSize == 91 + 5 + 9 + properties.count)
        #expect(RecordLayout.recordSize(bodyLength: 5, topicLength: 9, propertiesLength: properties.count) == b.bytes.count)
        let encoded = draft.encoded(queueOffset: 42, physicalOffset: 1_073_741_824 + 4096, storeTimestamp: 1_700_000_000_456)
        #expect(encoded == b.bytes)
        #expect(scan(encoded) == .record(size: b.bytes.count))
    }

    @Test func encodeWritesOnlyItsOwnBytesAtAnUnalignedOffset() {
        let draft = sampleDraft()
        var buffer = [UInt8](repeating: 0xEE, count: draft.encodedSize + 10)
        buffer.withUnsafeMutableBytes { raw in
            draft.encode(into: UnsafeMutableRawBufferPointer(rebasing: raw[3 ..< 3 + draft.encodedSize]),
                         queueOffset: 1, physicalOffset: 2, storeTimestamp: 3)
        }
        #expect(buffer[0 ..< 3].allSatisfy { $0 == 0xEE })
        #expect(buffer[(3 + draft.encodedSize)...].allSatisfy { $0 == 0xEE })
        #expect(Array(buffer[3 ..< 3 + draft.encodedSize]) == draft.encoded(queueOffset: 1, physicalOffset: 2, storeTimestamp: 3))
    }

    @Test func emptyBodyAndEmptyProperties() {
        var draft = sampleDraft(body: [])
        draft.properties = []
        let bytes = draft.encoded(queueOffset: 0, physicalOffset: 0, storeTimestamp: 0)
        #expect(bytes.count == 91 + 9)
        #expect(scan(bytes) == .record(size: 100))
        bytes.withUnsafeBytes { raw in
            let view = RecordView(raw)
            #expect(view.body.count == 0)
            #expect(view.properties.count == 0)
            #expect(view.topicString == "TopicTest")
        }
    }

    @Test func randomDraftsRoundTripThroughRecordView() {
        var rng = SplitMix64(seed: 0x7E51)
        for _ in 0 ..< 500 {
            let topic = rng.bytes(Int.random(in: 1 ... 127, using: &rng))
            let body = rng.bytes(Int.random(in: 0 ... 3000, using: &rng))
            let properties = rng.bytes(Int.random(in: 0 ... (Bool.random(using: &rng) ? 200 : 32767), using: &rng))
            let bornHost = HostAddress(ip: (rng.int(), rng.int(), rng.int(), rng.int()), port: rng.int())
            let storeHost = HostAddress(ip: (rng.int(), rng.int(), rng.int(), rng.int()), port: rng.int())
            let draft = MessageDraft(topic: topic, queueId: rng.int(), flag: rng.int(), sysFlag: rng.int(),
                                     bornTimestamp: rng.int(), bornHost: bornHost, storeHost: storeHost,
                                     reconsumeTimes: rng.int(), preparedTransactionOffset: rng.int(),
                                     body: body, properties: properties)
            let queueOffset: Int64 = rng.int(), physicalOffset: Int64 = rng.int(), storeTimestamp: Int64 = rng.int()
            let lead = Int.random(in: 0 ... 7, using: &rng)
            var buffer = [UInt8](repeating: 0, count: lead + draft.encodedSize)
            buffer.withUnsafeMutableBytes { raw in
                draft.encode(into: UnsafeMutableRawBufferPointer(rebasing: raw[lead...]), queueOffset: queueOffset,
                             physicalOffset: physicalOffset, storeTimestamp: storeTimestamp)
            }
            #expect(scan(buffer, at: lead) == .record(size: draft.encodedSize))
            buffer.withUnsafeBytes { raw in
                let view = RecordView(UnsafeRawBufferPointer(rebasing: raw[lead...]))
                #expect(Int(view.totalSize) == 91 + body.count + topic.count + properties.count)
                #expect(view.magic == RecordLayout.messageMagic)
                #expect(view.bodyCRC == CRC32.rocketmqBodyCRC(body))
                #expect(view.queueId == draft.queueId)
                #expect(view.flag == draft.flag)
                #expect(view.queueOffset == queueOffset)
                #expect(view.physicalOffset == physicalOffset)
                #expect(view.sysFlag == draft.sysFlag)
                #expect(view.bornTimestamp == draft.bornTimestamp)
                #expect(view.bornHost == bornHost)
                #expect(view.storeTimestamp == storeTimestamp)
                #expect(view.storeHost == storeHost)
                #expect(view.reconsumeTimes == draft.reconsumeTimes)
                #expect(view.preparedTransactionOffset == draft.preparedTransactionOffset)
                #expect(Array(view.body) == body)
                #expect(Array(view.topic) == topic)
                #expect(Array(view.properties) == properties)
            }
        }
    }
}

/// A body shared with a larger buffer (as a request body is with its read buffer): bytes `range` of `storage`.
private struct BufferSlice: SharedMessageBytes {
    let storage: [UInt8]
    let range: Range<Int>
    var count: Int { range.count }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

@Suite struct SharedBodyTests {
    /// The encoder copies a shared body from its buffer: same record, same CRC as the body in an array.
    @Test(arguments: [0, 1, 5, 4096])
    func sharedBodyEncodesLikeOwnedBytes(length: Int) {
        var rng = SplitMix64(seed: UInt64(length))
        let body = rng.bytes(length)
        let storage = rng.bytes(7) + body + rng.bytes(9)
        let owned = sampleDraft(body: body)
        let shared = MessageDraft(topic: owned.topic, queueId: owned.queueId, bornTimestamp: owned.bornTimestamp,
                                  bornHost: owned.bornHost, storeHost: owned.storeHost,
                                  body: .shared(BufferSlice(storage: storage, range: 7 ..< 7 + length)),
                                  properties: owned.properties)
        #expect(shared.body.count == length)
        #expect(shared.bodyCRC == owned.bodyCRC)
        #expect(shared.encodedSize == owned.encodedSize)
        let bytes = shared.encoded(queueOffset: 4, physicalOffset: 5, storeTimestamp: 6)
        #expect(bytes == owned.encoded(queueOffset: 4, physicalOffset: 5, storeTimestamp: 6))
        #expect(scan(bytes) == .record(size: bytes.count))
    }
}
