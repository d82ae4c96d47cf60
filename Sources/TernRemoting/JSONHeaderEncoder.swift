import NIOCore

/// Writes a JSON `RemotingCommand` header (serialize type 0).
///
/// Output shape, fixed key order, no spaces (one line on the wire):
/// ```
/// {"code":0,"flag":1,"language":"JAVA","opaque":17,"remark":"…",
///  "serializeTypeCurrentRPC":"JSON","version":408,"extFields":{"k":"v"}}
/// ```
/// - `remark` is omitted when nil (as Java does).
/// - `extFields` is always present, `{}` when empty: C++ dereferences the decoded header without a null check.
/// - Every extFields value is a JSON string, in insertion order: C++ reads a value only if it `isString()`.
/// - Strings escape `"`, `\` and every control byte below 0x20 (`\u0001`, `\u0002` separate message
///   properties); other bytes, UTF-8 included, are written raw.
enum JSONHeaderEncoder {
    static func write(_ command: RemotingCommand, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"code\":")
        buffer.writeString(String(command.code))
        buffer.writeStaticString(",\"flag\":")
        buffer.writeString(String(command.flag.rawValue))
        buffer.writeStaticString(",\"language\":\"")
        buffer.writeString(command.language.name)
        buffer.writeStaticString("\",\"opaque\":")
        buffer.writeString(String(command.opaque))
        if let remark = command.remark {
            buffer.writeStaticString(",\"remark\":")
            writeString(remark, into: &buffer)
        }
        buffer.writeStaticString(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":")
        buffer.writeString(String(command.version))
        buffer.writeStaticString(",\"extFields\":{")
        var first = true
        for (key, value) in command.extFields {
            if !first { buffer.writeInteger(UInt8.comma) }
            first = false
            writeString(key, into: &buffer)
            buffer.writeInteger(UInt8.colon)
            writeString(value, into: &buffer)
        }
        buffer.writeStaticString("}}")
    }

    /// Writes `text` as a quoted JSON string.
    static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8.quote)
        let utf8 = text.utf8
        if !utf8.contains(where: needsEscape) {
            buffer.writeString(text)
        } else {
            for byte in utf8 {
                guard needsEscape(byte) else {
                    buffer.writeInteger(byte)
                    continue
                }
                switch byte {
                case .quote: buffer.writeStaticString("\\\"")
                case .backslash: buffer.writeStaticString("\\\\")
                case .newline: buffer.writeStaticString("\\n")
                case .carriageReturn: buffer.writeStaticString("\\r")
                case .tab: buffer.writeStaticString("\\t")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigit(byte >> 4))
                    buffer.writeInteger(hexDigit(byte & 0x0F))
                }
            }
        }
        buffer.writeInteger(UInt8.quote)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == .quote || byte == .backslash
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? .digit0 + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
