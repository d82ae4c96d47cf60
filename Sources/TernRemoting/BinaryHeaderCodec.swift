import NIOCore

/// The ROCKETMQ binary header (serialize type 1), big-endian:
///
/// ```
/// +------+------+---------+--------+------+----------------+-------------------+
/// | code | lang | version | opaque | flag | remark         | extFields         |
/// | i16  | u8   | i16     | i32    | i32  | i32 n, n bytes | i32 m, m bytes    |
/// +------+------+---------+--------+------+----------------+-------------------+
/// extFields entry: i16 keyLength, key bytes, i32 valueLength, value bytes (UTF-8)
/// ```
/// Total header = 21 + n + m bytes. `n = 0` means no remark, so an empty remark decodes as nil. A zero-length
/// value decodes as an absent field. `code` and `version` are written truncated to 16 bits, as Java's `(short)`
/// casts do; every real code fits.
///
/// Decoding throws ``RemotingError/malformedHeader(reason:offset:)`` on a truncated field, a negative length
/// or a length past the header's end; bytes after the extFields section are ignored, as Java ignores them.
enum BinaryHeaderCodec {
    static let fixedSize = 21

    static func write(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws {
        buffer.writeInteger(Int16(truncatingIfNeeded: command.code))
        buffer.writeInteger(command.language.rawValue)
        buffer.writeInteger(Int16(truncatingIfNeeded: command.version))
        buffer.writeInteger(command.opaque)
        buffer.writeInteger(command.flag.rawValue)
        if let remark = command.remark, !remark.isEmpty {
            try writeLengthPrefixed(remark, field: "remark", as: Int32.self, into: &buffer)
        } else {
            buffer.writeInteger(Int32(0))
        }
        let extLengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        // Rendered values: a template's integers go straight into the frame (no String per answer; a message
        // id's 32 digits were a heap allocation).
        var failure: (any Error)?
        command.extFields.forEachRendered { key, value in
            guard failure == nil else { return }
            do {
                try writeLengthPrefixed(key, field: "extFields key \(key.prefix(32))", as: Int16.self, into: &buffer)
                switch value {
                case let .string(text):
                    try writeLengthPrefixed(text, field: "extFields[\(key.prefix(32))]", as: Int32.self, into: &buffer)
                case let .decimal(n):
                    let count = JSONHeaderEncoder.decimalLength(n)
                    buffer.writeInteger(Int32(count))
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { out in
                        var writer = JSONByteWriter(out)
                        writer.decimal(n)
                        return writer.position
                    }
                case let .hex128(high, low):
                    buffer.writeInteger(Int32(32))
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 32) { out in
                        var writer = JSONByteWriter(out)
                        writer.hex(high)
                        writer.hex(low)
                        return writer.position
                    }
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        let extLength = buffer.writerIndex - extLengthIndex - 4
        guard let extLength32 = Int32(exactly: extLength) else {
            throw RemotingError.headerFieldTooLong(field: "extFields", length: extLength)
        }
        buffer.setInteger(extLength32, at: extLengthIndex)
    }

    private static func writeLengthPrefixed<Length: FixedWidthInteger>(
        _ text: String,
        field: @autoclosure () -> String,  // built only for the error: two interpolations per field showed in profiles
        as: Length.Type,
        into buffer: inout ByteBuffer
    ) throws {
        let count = text.utf8.count
        guard let length = Length(exactly: count) else {
            throw RemotingError.headerFieldTooLong(field: field(), length: count)
        }
        buffer.writeInteger(length)
        buffer.writeString(text)
    }

    /// `recycler`: where a finished request's extFields table waits to be refilled by this decode.
    ///
    /// Keys requests carry all the time are interned and ASCII values stay in the header (a String only when
    /// read, as for JSON headers): a send header's dozen Strings per request were its decode's main cost.
    static func decode(_ header: ByteBuffer, recycler: ExtFieldsRecycler? = nil) throws -> RemotingCommand {
        let source = header
        var header = header
        let start = header.readerIndex
        func malformed(_ reason: String) -> RemotingError {
            .malformedHeader(reason: reason, offset: header.readerIndex - start)
        }
        guard let code = header.readInteger(as: Int16.self),
            let language = header.readInteger(as: UInt8.self),
            let version = header.readInteger(as: Int16.self),
            let opaque = header.readInteger(as: Int32.self),
            let flag = header.readInteger(as: Int32.self)
        else { throw malformed("truncated fixed fields") }

        guard let remarkBytes = readLengthPrefixed(from: &header, as: Int32.self) else {
            throw malformed("bad remark length")
        }
        // The section's first byte, as an offset into `source`'s readable bytes (a slice counts from 0).
        let extStart = header.readerIndex - start + 4
        guard var extBytes = readLengthPrefixed(from: &header, as: Int32.self) else {
            throw malformed("bad extFields length")
        }
        var fields = RemotingExtFields(source: source)
        if extBytes.readableBytes > 0 {
            recycler?.lend(to: &fields)
            fields.reserveCapacity(16)  // a send header's fields without regrowing
        }
        var seen: UInt64 = 0
        while extBytes.readableBytes > 0 {
            let entryOffset = extStart + extBytes.readerIndex
            guard let key = readLengthPrefixed(from: &extBytes, as: Int16.self),
                let value = readLengthPrefixed(from: &extBytes, as: Int32.self)
            else { throw RemotingError.malformedHeader(reason: "bad extFields entry", offset: entryOffset) }
            guard value.readableBytes > 0 else { continue }
            let valueEnd = extStart + extBytes.readerIndex
            let named = key.withUnsafeReadableBytes { bytes -> (key: String, signature: UInt32) in
                RemotingExtFields.knownKey(bytes)
                    ?? (key: String(decoding: bytes, as: UTF8.self), signature: RemotingExtFields.signature(bytes))
            }
            let ascii = value.withUnsafeReadableBytes { bytes -> Bool in
                var high: UInt8 = 0
                for byte in bytes { high |= byte }
                return high < 0x80
            }
            // Offsets fit: a header is at most 24 bits long.
            let stored: RemotingExtFields.StoredValue = ascii
                ? .verbatim(start: UInt32(valueEnd - value.readableBytes), end: UInt32(valueEnd))
                : .text(String(buffer: value))
            fields.setDecoded(stored, for: named.key, signature: named.signature, seen: &seen)
            guard fields.count <= RemotingLimits.extFieldsCountMax else {
                throw RemotingError.malformedHeader(
                    reason: "more than \(RemotingLimits.extFieldsCountMax) extFields",
                    offset: entryOffset
                )
            }
        }
        return RemotingCommand(
            code: Int(code),
            language: LanguageCode(rawValue: language) ?? .other,
            version: Int(version),
            opaque: opaque,
            flag: RemotingFlags(rawValue: flag),
            remark: remarkBytes.readableBytes == 0 ? nil : String(buffer: remarkBytes),
            extFields: fields,
            serializeType: .rocketmq
        )
    }

    /// Reads a length and that many bytes; nil (reader index unspecified) if the length is negative or the
    /// bytes run past the end.
    private static func readLengthPrefixed<Length: FixedWidthInteger>(
        from buffer: inout ByteBuffer,
        as: Length.Type
    ) -> ByteBuffer? {
        guard let length = buffer.readInteger(as: Length.self), length >= 0 else { return nil }
        return buffer.readSlice(length: Int(length))
    }
}
