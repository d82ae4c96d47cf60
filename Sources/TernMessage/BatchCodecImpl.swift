// Batch body items (message-format.md §5):
//     TOTALSIZE(4) = 20 + n + 2 + p | MAGIC(4) = 0 | BODYCRC(4) = 0 | FLAG(4) | BODYLEN(4) + BODY | PROPLEN(2) + PROPS

enum BatchItemCodec {
    static let fixedSize = 22
    static let flagOffset = 12, bodyLengthOffset = 16

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(BatchCodec.Error) -> [BatchItem] {
        var items: [BatchItem] = []
        var at = 0
        let end = bytes.count
        while at < end {
            guard end - at >= 4 else { throw .truncated(at: at) }
            let size = Int(bytes.loadBigEndian(at: at, as: Int32.self))
            guard size >= fixedSize else { throw .badItemSize(at: at) }
            guard size <= end - at else { throw .truncated(at: at) }
            let item = bytes.slice(at, size)
            let bodyLength = Int(item.loadBigEndian(at: bodyLengthOffset, as: Int32.self))
            guard bodyLength >= 0, bodyLength <= size - fixedSize else { throw .badItemSize(at: at) }
            let bodyOffset = bodyLengthOffset + 4
            let propertiesLength = Int(item.loadBigEndian(at: bodyOffset + bodyLength, as: UInt16.self))
            guard propertiesLength <= RecordLayout.maxPropertiesLength,
                  fixedSize + bodyLength + propertiesLength == size else { throw .badItemSize(at: at) }
            items.append(BatchItem(flag: item.loadBigEndian(at: flagOffset, as: Int32.self),
                                   body: Array(item.slice(bodyOffset, bodyLength)),
                                   properties: Array(item.slice(bodyOffset + bodyLength + 2, propertiesLength))))
            at += size
        }
        return items
    }

    static func encode(_ items: [BatchItem]) -> [UInt8] {
        var total = 0
        for item in items {
            precondition(item.properties.count <= RecordLayout.maxPropertiesLength, "properties longer than 32767 bytes")
            total += fixedSize + item.body.count + item.properties.count
        }
        return [UInt8](unsafeUninitializedCapacity: total) { raw, initialized in
            let out = UnsafeMutableRawBufferPointer(raw)
            var at = 0
            for item in items {
                let size = fixedSize + item.body.count + item.properties.count
                precondition(size <= Int(Int32.max), "batch item larger than Int32.max")
                out.storeBigEndian(Int32(size), at: at)
                out.storeBigEndian(UInt32(0), at: at + 4)   // MAGICCODE: client writes 0
                out.storeBigEndian(UInt32(0), at: at + 8)   // BODYCRC: broker recomputes
                out.storeBigEndian(item.flag, at: at + flagOffset)
                out.storeBigEndian(Int32(item.body.count), at: at + bodyLengthOffset)
                out.copy(item.body, at: at + bodyLengthOffset + 4)
                let propertiesLengthOffset = at + bodyLengthOffset + 4 + item.body.count
                out.storeBigEndian(UInt16(item.properties.count), at: propertiesLengthOffset)
                out.copy(item.properties, at: propertiesLengthOffset + 2)
                at += size
            }
            initialized = total
        }
    }
}
