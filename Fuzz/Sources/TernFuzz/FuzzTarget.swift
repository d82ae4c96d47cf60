import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
// The header decoders and the SQL92 compiler are internal, reachable with testability, which debug builds
// (those of tools/fuzz and tools/test) have; a release build of this harness still compiles and says so.
#if DEBUG
@testable import TernBroker
@testable import TernRemoting
#endif

/// One decoder under fuzzing. `run` must accept any bytes: it may reject them (throw, return nil) but never trap,
/// and each checks an invariant the decoder promises beyond "does not crash".
enum FuzzTarget: String, CaseIterable, Sendable {
    case frame, jsonHeader = "json-header", binaryHeader = "binary-header", record, properties, batch, sql92, fastjson

    func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .frame: Self.frame(data)
        case .jsonHeader: Self.header(data, json: true)
        case .binaryHeader: Self.header(data, json: false)
        case .record: Self.record(data)
        case .properties: Self.properties(data)
        case .batch: Self.batch(data)
        case .sql92: Self.sql92(data)
        case .fastjson: Self.fastjson(data)
        }
    }

    /// Frames decode until the input runs out; whatever decodes re-encodes to a frame that decodes again.
    private static func frame(_ data: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: data)
        while let command = try? RemotingFrame.read(from: &buffer, frameSizeMax: 1 << 20) {
            var again = ByteBuffer()
            guard (try? RemotingFrame.write(command, into: &again)) != nil else { continue }
            let back: RemotingCommand?
            do { back = try RemotingFrame.read(from: &again, frameSizeMax: Int(Int32.max)) } catch {
                fatalError("re-encoded frame does not decode: \(error)")
            }
            precondition(back?.code == command.code && back?.opaque == command.opaque, "round trip changed the command")
        }
    }

    private static func header(_ data: UnsafeRawBufferPointer, json: Bool) {
        #if DEBUG
        let header = ByteBuffer(bytes: data)
        guard let command = json ? try? JSONHeaderDecoder.decode(header) : try? BinaryHeaderCodec.decode(header) else { return }
        // Values stay in the header until read: every way of reading one must work on whatever decoded.
        let fields = command.extFields
        let at = fields.locate(SendRequestKeys.short)
        for i in 0 ..< fields.count {
            precondition(fields.utf8(at: i) == Array(fields.string(at: i).utf8), "a value's bytes differ from its text")
            _ = (fields.int64(at: i), fields.bool(at: i), fields.value(at: i, equalsUTF8: [0x41]))
        }
        for k in 0 ..< 13 { if let i = at[k] { precondition(fields.key(at: i) == SendRequestKeys.names[k]) } }
        #else
        fatalError("the header targets need a debug build")
        #endif
    }

    /// SEND_MESSAGE_V2's keys, located in every decoded header.
    private enum SendRequestKeys {
        static let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]
        static let short = RemotingExtFields.KeySet(names)
    }

    /// A record the scanner accepts can be read through every `RecordView` accessor.
    private static func record(_ data: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < data.count {
            guard case .record(let size) = RecordScanner.scan(data, at: offset, checkCRC: true, maxRecordSize: 1 << 22)
            else { return }
            let view = RecordView(UnsafeRawBufferPointer(rebasing: data[offset..<offset + size]))
            precondition(Int(view.totalSize) == size)
            _ = (view.queueId, view.queueOffset, view.physicalOffset, view.sysFlag, view.bornHost, view.storeHost)
            _ = (view.body.count, view.topicString, MessageProperties.decode(view.properties).count)
            offset += size
        }
    }

    /// Decoding never traps, and re-encoding what decoded decodes to the same entries.
    private static func properties(_ data: UnsafeRawBufferPointer) {
        let entries = MessageProperties.decode(data)
        let again = MessageProperties.decode(MessageProperties.encode(entries))
        precondition(again.elementsEqual(entries, by: { $0 == $1 }), "properties round trip differs")
        MessageProperties.forEachEntry(in: data) { _, _ in true }
        _ = MessageProperties.value(of: "TAGS", in: data)
    }

    private static func batch(_ data: UnsafeRawBufferPointer) {
        guard let items = try? BatchCodec.decode(data) else { return }
        let again = BatchCodec.encode(items).withUnsafeBytes { try? BatchCodec.decode($0) }
        precondition(again?.count == items.count, "batch round trip lost items")
    }

    /// The selector compiles or is refused; a compiled one evaluates over arbitrary properties.
    private static func sql92(_ data: UnsafeRawBufferPointer) {
        #if DEBUG
        guard let filter = try? SQL92Filter.compile(String(decoding: data, as: UTF8.self)) else { return }
        _ = filter.matches(properties: [("a", "1"), ("b", "x"), ("TAGS", "t"), ("n", "3.5")])
        _ = filter.matches(properties: data)
        #else
        fatalError("the sql92 target needs a debug build")
        #endif
    }

    /// What reads writes back to text that reads to the same value; the admin bodies decode it or refuse it.
    private static func fastjson(_ data: UnsafeRawBufferPointer) {
        guard let value = try? FastJSONReader.read(data) else { return }
        let again: FastJSON
        do { again = try FastJSONReader.read(FastJSONWriter.write(value)) } catch {
            fatalError("written fastjson does not read: \(error)")
        }
        precondition(again == value, "fastjson round trip changed the value")
        _ = try? TopicStatsBody(fastJSON: value)
        _ = try? ConsumeStatsBody(fastJSON: value)
        _ = try? KVTableBody(fastJSON: value)
    }
}
