import TernChecksum

// Record encoding (one pass, straight into the destination) and validation. Layout: message-format.md §1.

extension MessageDraft {
    func writeRecord(into d: UnsafeMutableRawBufferPointer, queueOffset: Int64, physicalOffset: Int64,
                     storeTimestamp: Int64) {
        typealias L = RecordLayout
        let size = encodedSize
        precondition(d.count >= size, "destination smaller than the record")
        precondition((1 ... L.maxTopicLength).contains(topic.count), "topic length must be 1...127")
        precondition(properties.count <= L.maxPropertiesLength, "properties longer than 32767 bytes")
        precondition(size <= Int(Int32.max), "record larger than Int32.max")

        d.storeBigEndian(Int32(size), at: L.totalSizeOffset)
        d.storeBigEndian(L.messageMagic, at: L.magicOffset)
        d.storeBigEndian(bodyCRC, at: L.bodyCRCOffset)
        d.storeBigEndian(queueId, at: L.queueIdOffset)
        d.storeBigEndian(flag, at: L.flagOffset)
        d.storeBigEndian(queueOffset, at: L.queueOffsetOffset)
        d.storeBigEndian(physicalOffset, at: L.physicalOffsetOffset)
        d.storeBigEndian(sysFlag, at: L.sysFlagOffset)
        d.storeBigEndian(bornTimestamp, at: L.bornTimestampOffset)
        d.storeHost(bornHost, at: L.bornHostOffset)
        d.storeBigEndian(storeTimestamp, at: L.storeTimestampOffset)
        d.storeHost(storeHost, at: L.storeHostOffset)
        d.storeBigEndian(reconsumeTimes, at: L.reconsumeTimesOffset)
        d.storeBigEndian(preparedTransactionOffset, at: L.preparedTransactionOffsetOffset)

        var at = L.bodyLengthOffset
        d.storeBigEndian(Int32(bodyLength), at: at)
        at += 4
        body.withUnsafeBytes { d.copy($0, at: at) }
        at += bodyLength
        d.storeBigEndian(UInt8(topic.count), at: at)
        at += 1
        d.copy(topic, at: at)
        at += topic.count
        d.storeBigEndian(UInt16(properties.count), at: at)
        at += 2
        d.copy(properties, at: at)
    }
}

/// Offsets of the variable part of a record, derived from its length fields.
struct RecordVariableLayout {
    let bodyOffset: Int, bodyLength: Int
    let topicOffset: Int, topicLength: Int
    let propertiesOffset: Int, propertiesLength: Int

    /// Trusting read (RecordView's precondition: the record is whole and valid).
    init(_ r: UnsafeRawBufferPointer) {
        bodyOffset = RecordLayout.bodyLengthOffset + 4
        bodyLength = Int(r.loadBigEndian(at: RecordLayout.bodyLengthOffset, as: Int32.self))
        let topicLengthOffset = bodyOffset + bodyLength
        topicOffset = topicLengthOffset + 1
        topicLength = Int(r[topicLengthOffset])
        let propertiesLengthOffset = topicOffset + topicLength
        propertiesOffset = propertiesLengthOffset + 2
        propertiesLength = Int(r.loadBigEndian(at: propertiesLengthOffset, as: UInt16.self))
    }
}

enum RecordValidator {
    static func scan(_ bytes: UnsafeRawBufferPointer, at offset: Int, checkCRC: Bool,
                     maxRecordSize: Int) -> RecordScanResult {
        guard offset >= 0, offset <= bytes.count, bytes.count - offset >= 8 else { return .invalid(.truncatedHeader) }
        let remaining = bytes.count - offset
        let size = bytes.loadBigEndian(at: offset + RecordLayout.totalSizeOffset, as: Int32.self)
        let magic = bytes.loadBigEndian(at: offset + RecordLayout.magicOffset, as: UInt32.self)
        if size == 0 && magic == 0 { return .endOfData }
        switch magic {
        case RecordLayout.blankMagic:
            guard size >= 8, Int(size) <= remaining else { return .invalid(.sizeOutOfBounds(size)) }
            return .blank(size: Int(size))
        case RecordLayout.messageMagic:
            guard Int(size) >= RecordLayout.fixedSize, Int(size) <= maxRecordSize, Int(size) <= remaining else {
                return .invalid(.sizeOutOfBounds(size))
            }
            let record = bytes.slice(offset, Int(size))
            if let error = validateMessage(record, checkCRC: checkCRC) { return .invalid(error) }
            return .record(size: Int(size))
        default:
            return .invalid(.badMagic(magic))
        }
    }

    /// `r` is exactly TOTALSIZE bytes, TOTALSIZE >= fixedSize. Every read is checked against `r.count`.
    private static func validateMessage(_ r: UnsafeRawBufferPointer, checkCRC: Bool) -> RecordScanError? {
        let size = r.count
        let bodyLength = Int(r.loadBigEndian(at: RecordLayout.bodyLengthOffset, as: Int32.self))
        let bodyOffset = RecordLayout.bodyLengthOffset + 4
        // The topic length byte must still lie inside the record.
        guard bodyLength >= 0, bodyLength <= size - bodyOffset - 1 else { return .lengthMismatch }
        let topicLength = Int(r[bodyOffset + bodyLength])
        guard (1 ... RecordLayout.maxTopicLength).contains(topicLength) else { return .topicLengthInvalid }
        let propertiesLengthOffset = bodyOffset + bodyLength + 1 + topicLength
        guard propertiesLengthOffset + 2 <= size else { return .lengthMismatch }
        let propertiesLength = Int(r.loadBigEndian(at: propertiesLengthOffset, as: UInt16.self))
        // Java reads the length as a signed short: above 32767 it is negative, i.e. corrupt.
        guard propertiesLength <= RecordLayout.maxPropertiesLength,
              RecordLayout.recordSize(bodyLength: bodyLength, topicLength: topicLength,
                                      propertiesLength: propertiesLength) == size
        else { return .lengthMismatch }
        if checkCRC {
            let stored = r.loadBigEndian(at: RecordLayout.bodyCRCOffset, as: UInt32.self)
            let computed = CRC32.rocketmqBodyCRC(r.slice(bodyOffset, bodyLength))
            if stored != computed { return .bodyCRCMismatch(stored: stored, computed: computed) }
        }
        return nil
    }
}
