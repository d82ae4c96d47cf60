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
///
/// Cost: every response passes here. The header is emitted twice through one generic routine: once into a
/// counter for its exact length, then into the buffer's writable bytes in one `writeWithUnsafeMutableBytes`
/// (per-byte `ByteBuffer` writes, each with its own uniqueness and exclusivity checks, were a tenth of the
/// send path's event-loop time). No String is built for numbers.
enum JSONHeaderEncoder {
    static func write(_ command: RemotingCommand, into buffer: inout ByteBuffer) {
        var counter = JSONLengthCounter()
        emit(command, into: &counter)
        let length = counter.count
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var out = JSONByteWriter(raw)
            emit(command, into: &out)
            // Both passes run the same code over the same values; a mismatch is a bug, not an input.
            precondition(out.position == length, "JSON header length \(out.position) != counted \(length)")
            return length
        }
    }

    private static func emit<S: JSONSink>(_ command: RemotingCommand, into s: inout S) {
        s.literal("{\"code\":")
        s.decimal(Int64(command.code))
        s.literal(",\"flag\":")
        s.decimal(Int64(command.flag.rawValue))
        s.literal(",\"language\":\"")
        s.raw(command.language.name)
        s.literal("\",\"opaque\":")
        s.decimal(Int64(command.opaque))
        if let remark = command.remark {
            s.literal(",\"remark\":")
            s.quoted(remark)
        }
        s.literal(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":")
        s.decimal(Int64(command.version))
        s.literal(",\"extFields\":{")
        if let (form, words) = command.extFields.jsonForm {
            emit(form, words, into: &s)
            return s.literal("}}")
        }
        var first = true
        command.extFields.forEachRendered { key, value in
            if !first { s.byte(.comma) }
            first = false
            s.quoted(key)
            s.byte(.colon)
            switch value {
            case let .string(text): s.quoted(text)
            case let .decimal(n):
                s.byte(.quote)
                s.decimal(n)
                s.byte(.quote)
            case let .hex128(high, low):
                s.byte(.quote)
                s.hex(high)
                s.hex(low)
                s.byte(.quote)
            }
        }
        s.literal("}}")
    }

    /// A template's members: its literal runs copied, its placeholders written from `words`.
    private static func emit<S: JSONSink>(_ form: RemotingExtFields.Template.JSONForm,
                                          _ words: (UInt64, UInt64, UInt64, UInt64), into s: inout S) {
        func word(_ slot: UInt8) -> UInt64 {
            switch slot {
            case 0: words.0
            case 1: words.1
            case 2: words.2
            default: words.3
            }
        }
        form.literal.withUnsafeBytes { literal in
            var start = 0
            for piece in form.pieces {
                s.bytes(UnsafeRawBufferPointer(rebasing: literal[start ..< piece.end]))
                start = piece.end
                switch piece.placeholder {
                case .none: break
                case let .decimal(slot): s.decimal(Int64(bitPattern: word(slot)))
                case let .hex128(slot):
                    s.hex(word(slot))
                    s.hex(word(slot + 1))
                }
            }
        }
    }

    /// `"text"` with JSON escapes, as a header writes it (a template's constant runs).
    static func quoted(_ text: String) -> [UInt8] {
        var counter = JSONLengthCounter()
        counter.quoted(text)
        return [UInt8](unsafeUninitializedCapacity: counter.count) { buffer, count in
            var out = JSONByteWriter(UnsafeMutableRawBufferPointer(buffer))
            out.quoted(text)
            count = out.position
        }
    }

    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == .quote || byte == .backslash
    }

    /// Bytes `byte` takes inside a JSON string.
    static func escapedLength(_ byte: UInt8) -> Int {
        switch byte {
        case .quote, .backslash, .newline, .carriageReturn, .tab: 2
        case 0 ..< 0x20: 6
        default: 1
        }
    }

    static func decimalLength(_ value: Int64) -> Int {
        var n = value < 0 ? 2 : 1
        var v = value.magnitude
        while v >= 10 { v /= 10; n += 1 }
        return n
    }
}

/// Where ``JSONHeaderEncoder`` emits: a length counter, then the output bytes.
protocol JSONSink {
    mutating func literal(_ text: StaticString)
    mutating func byte(_ byte: UInt8)
    /// Bytes copied as they are (a template's literal runs).
    mutating func bytes(_ bytes: UnsafeRawBufferPointer)
    /// Bytes written as they are (names known to need no escaping).
    mutating func raw(_ text: String)
    mutating func decimal(_ value: Int64)
    /// 16 uppercase hex digits, big-endian.
    mutating func hex(_ value: UInt64)
    /// `"text"` with JSON escapes.
    mutating func quoted(_ text: String)
}

struct JSONLengthCounter: JSONSink {
    var count = 0
    mutating func literal(_ text: StaticString) { count += text.utf8CodeUnitCount }
    mutating func byte(_ byte: UInt8) { count += 1 }
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) { count += bytes.count }
    mutating func raw(_ text: String) { count += text.utf8.count }
    mutating func decimal(_ value: Int64) { count += JSONHeaderEncoder.decimalLength(value) }
    mutating func hex(_ value: UInt64) { count += 16 }
    mutating func quoted(_ text: String) {
        var text = text
        count += 2 + text.withUTF8 { utf8 in
            var n = utf8.count
            for byte in utf8 where JSONHeaderEncoder.needsEscape(byte) { n += JSONHeaderEncoder.escapedLength(byte) - 1 }
            return n
        }
    }
}

/// Writes into a buffer's writable bytes. Every write checks the remaining room first, so a wrong count can
/// trap but never write out of bounds.
struct JSONByteWriter: JSONSink {
    private let out: UnsafeMutableRawBufferPointer
    private(set) var position = 0

    init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

    private mutating func room(_ n: Int) {
        precondition(n <= out.count - position, "JSON header writer overrun")
    }

    mutating func literal(_ text: StaticString) {
        room(text.utf8CodeUnitCount)
        text.withUTF8Buffer { copy(UnsafeRawBufferPointer($0)) }
    }

    mutating func byte(_ byte: UInt8) {
        room(1)
        out[position] = byte
        position += 1
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        room(bytes.count)
        copy(bytes)
    }

    mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            room(utf8.count)
            copy(UnsafeRawBufferPointer(utf8))
        }
    }

    mutating func decimal(_ value: Int64) {
        let n = JSONHeaderEncoder.decimalLength(value)
        room(n)
        var v = value.magnitude
        var i = position + n - 1
        repeat {
            out[i] = .digit0 + UInt8(v % 10)
            v /= 10
            i -= 1
        } while v > 0
        if value < 0 { out[position] = .minus }
        position += n
    }

    mutating func hex(_ value: UInt64) {
        room(16)
        for i in 0 ..< 16 { out[position + i] = RemotingExtFields.hexDigit(value >> UInt64(60 - 4 * i)) }
        position += 16
    }

    mutating func quoted(_ text: String) {
        byte(.quote)
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for (i, byte) in utf8.enumerated() where JSONHeaderEncoder.needsEscape(byte) {
                room(i - runStart)
                copy(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart ..< i])))
                escape(byte)
                runStart = i + 1
            }
            room(utf8.count - runStart)
            copy(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart...])))
        }
        byte(.quote)
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case .quote: literal("\\\"")
        case .backslash: literal("\\\\")
        case .newline: literal("\\n")
        case .carriageReturn: literal("\\r")
        case .tab: literal("\\t")
        default:
            literal("\\u00")
            self.byte(Self.hexDigit(byte >> 4))
            self.byte(Self.hexDigit(byte & 0x0F))
        }
    }

    /// Copies `bytes` at `position`; the caller checked the room.
    private mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        UnsafeMutableRawBufferPointer(rebasing: out[position ..< position + bytes.count]).copyMemory(from: bytes)
        position += bytes.count
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? .digit0 + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
