import TernTestSupport
import Testing
import TernChecksum
import TernMessage

@Suite struct RecordScannerTests {
    let record = sampleDraft().encoded(queueOffset: 7, physicalOffset: 0, storeTimestamp: 1)
    // Layout of `record`: body "Hello" at 88, topic length byte at 93, topic at 94, properties length at 103.
    let topicLengthAt = 93, propertiesLengthAt = 103

    @Test func validRecordFollowedByBlankAndEndOfData() {
        var segment = record + record
        let blankAt = segment.count
        segment += [UInt8](repeating: 0, count: 64).storeBE(Int32(40), at: 0).storeBE(RecordLayout.blankMagic, at: 4)
        #expect(scan(segment, at: 0) == .record(size: record.count))
        #expect(scan(segment, at: record.count) == .record(size: record.count))
        #expect(scan(segment, at: blankAt) == .blank(size: 40))
        #expect(scan(segment, at: blankAt + 40) == .endOfData)
        #expect(scan(segment, at: segment.count - 8) == .endOfData)
        #expect(scan(segment, at: segment.count - 7) == .invalid(.truncatedHeader))
        #expect(scan(segment, at: segment.count) == .invalid(.truncatedHeader))
        #expect(scan([], at: 0) == .invalid(.truncatedHeader))
    }

    @Test func blankSizeBounds() {
        let blank = [UInt8](repeating: 0, count: 16).storeBE(RecordLayout.blankMagic, at: 4)
        #expect(scan(blank.storeBE(Int32(16), at: 0)) == .blank(size: 16))
        #expect(scan(blank.storeBE(Int32(8), at: 0)) == .blank(size: 8))
        #expect(scan(blank.storeBE(Int32(7), at: 0)) == .invalid(.sizeOutOfBounds(7)))
        #expect(scan(blank.storeBE(Int32(0), at: 0)) == .invalid(.sizeOutOfBounds(0)))
        #expect(scan(blank.storeBE(Int32(17), at: 0)) == .invalid(.sizeOutOfBounds(17)))
        #expect(scan(blank.storeBE(Int32(-1), at: 0)) == .invalid(.sizeOutOfBounds(-1)))
    }

    @Test func messageSizeBounds() {
        let size = Int32(record.count)
        #expect(scan(record, max: record.count) == .record(size: record.count))
        #expect(scan(record, max: record.count - 1) == .invalid(.sizeOutOfBounds(size)))
        #expect(scan(Array(record.dropLast())) == .invalid(.sizeOutOfBounds(size)))
        #expect(scan(record.storeBE(Int32(90), at: 0)) == .invalid(.sizeOutOfBounds(90)))
        #expect(scan(record.storeBE(Int32(0), at: 0)) == .invalid(.sizeOutOfBounds(0)))
        #expect(scan(record.storeBE(Int32.min, at: 0)) == .invalid(.sizeOutOfBounds(.min)))
        #expect(scan(record.storeBE(Int32.max, at: 0)) == .invalid(.sizeOutOfBounds(.max)))
    }

    @Test func badMagic() {
        #expect(scan(record.storeBE(UInt32(0xDEAD_BEEF), at: 4)) == .invalid(.badMagic(0xDEAD_BEEF)))
        // Size zero alone is not end of data when the magic is set to something else.
        #expect(scan([UInt8](repeating: 0, count: 8).storeBE(UInt32(1), at: 4)) == .invalid(.badMagic(1)))
    }

    @Test func lengthMismatch() {
        // TOTALSIZE one larger than the parts (with a trailing byte so the size is in bounds).
        #expect(scan((record + [0]).storeBE(Int32(record.count + 1), at: 0)) == .invalid(.lengthMismatch))
        // Body one longer: the "topic length" is then 'T' (84), which runs the properties length past the end.
        #expect(scan(record.storeBE(Int32(6), at: 84)) == .invalid(.lengthMismatch))
        #expect(scan(record.storeBE(Int32(record.count), at: 84)) == .invalid(.lengthMismatch))
        #expect(scan(record.storeBE(Int32(-1), at: 84)) == .invalid(.lengthMismatch))
        #expect(scan(record.storeBE(Int32.max, at: 84)) == .invalid(.lengthMismatch))
        #expect(scan(record.storeBE(Int32.min, at: 84)) == .invalid(.lengthMismatch))
        #expect(scan(record.storeBE(UInt16(0), at: propertiesLengthAt)) == .invalid(.lengthMismatch))
        #expect(scan(record.storeBE(UInt16(0xFFFF), at: propertiesLengthAt)) == .invalid(.lengthMismatch))
        // Topic length pointing the properties-length field past the record's end.
        let tail = record.count - topicLengthAt - 1
        #expect(scan(record.storeBE(UInt8(min(tail, 127)), at: topicLengthAt)) == .invalid(.lengthMismatch))
    }

    @Test func topicLengthInvalid() {
        #expect(scan(record.storeBE(UInt8(0), at: topicLengthAt)) == .invalid(.topicLengthInvalid))
        #expect(scan(record.storeBE(UInt8(128), at: topicLengthAt)) == .invalid(.topicLengthInvalid))
        #expect(scan(record.storeBE(UInt8(255), at: topicLengthAt)) == .invalid(.topicLengthInvalid))
    }

    @Test func flippedBodyByteIsACRCMismatchOnlyWhenChecking() {
        var corrupt = record
        corrupt[88] ^= 0x01
        #expect(scan(corrupt, checkCRC: false) == .record(size: record.count))
        let computed = CRC32.rocketmqBodyCRC(Array("Iello".utf8))
        #expect(scan(corrupt, checkCRC: true) == .invalid(.bodyCRCMismatch(stored: 0x77D1_8982, computed: computed)))
        var badStored = record
        badStored[8] ^= 0x40
        #expect(scan(badStored, checkCRC: false) == .record(size: record.count))
        #expect(scan(badStored, checkCRC: true) == .invalid(.bodyCRCMismatch(stored: 0x37D1_8982, computed: 0x77D1_8982)))
    }

    /// Garbage and mutated records: the scanner must never trap, and whatever it accepts must be readable
    /// through RecordView within the reported size.
    @Test func randomGarbageNeverCrashes() {
        var rng = SplitMix64(seed: 0xF022)
        var seen: [String: Int] = [:]
        for iteration in 0 ..< 10_000 {
            var bytes: [UInt8]
            switch iteration % 3 {
            case 0:
                bytes = rng.bytes(Int.random(in: 0 ... 300, using: &rng))
            case 1:  // a plausible header over garbage
                bytes = rng.bytes(Int.random(in: 8 ... 300, using: &rng))
                let magic = [RecordLayout.messageMagic, RecordLayout.blankMagic, 0][Int.random(in: 0 ... 2, using: &rng)]
                bytes = bytes.storeBE(Int32.random(in: -4 ... Int32(bytes.count + 4), using: &rng), at: 0)
                    .storeBE(magic, at: 4)
            default:  // a valid record with a few bytes changed
                bytes = record
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                    bytes[Int.random(in: 0 ..< bytes.count, using: &rng)] = rng.int()
                }
                if Bool.random(using: &rng) { bytes = Array(bytes.prefix(Int.random(in: 0 ... bytes.count, using: &rng))) }
            }
            let offset = Int.random(in: -2 ... bytes.count + 2, using: &rng)
            let result = scan(bytes, at: offset, checkCRC: Bool.random(using: &rng), max: Int.random(in: 0 ... 400, using: &rng))
            seen[String(describing: result).prefix(while: { $0 != "(" }).description, default: 0] += 1
            if case .record(let size) = result {
                bytes.withUnsafeBytes { raw in
                    let view = RecordView(UnsafeRawBufferPointer(rebasing: raw[offset ..< offset + size]))
                    #expect(Int(view.totalSize) == size)
                    #expect(view.body.count + view.topic.count + view.properties.count + 91 == size)
                    _ = (view.topicString, view.bornHost, view.storeHost)
                }
            }
        }
        #expect(seen["record", default: 0] > 0)
        #expect(seen["invalid", default: 0] > 0)
    }
}
