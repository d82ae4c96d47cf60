import CompressNIO
import Foundation
import NIOCore

/// RocketMQ's compressed `RegisterBrokerBody` (REGISTER_BROKER with `compressed=true`, sent by brokers with
/// `compressedRegister=true`): one zlib stream (Java's `DeflaterOutputStream`, best compression) over
///
///     int32 n, n bytes  DataVersion JSON
///     int32 count
///     count × (int32 n, n bytes  "topicName readQueueNums writeQueueNums perm topicFilterType")
///     int32 n, n bytes  filter-server list JSON
///
/// Integers are big-endian, text is UTF-8. The per-topic line drops `topicSysFlag` and `order`: a name server
/// reading this form sees them as 0 / false (it routes on queue counts and perm only). The topic lines are
/// written in name order so the same table always encodes to the same bytes.
extension RegisterBrokerBody {
    /// Largest inflated body `decodeCompressed` accepts by default: ~1.5 million topic lines, and a bound on
    /// what a small hostile stream can make the name server allocate.
    public static let maxInflatedBytes = 64 << 20

    /// The compressed form (zlib stream).
    public func encodeCompressed() throws(CompressedRegisterError) -> ByteBuffer {
        var plain = try compressedPayload()
        do {
            return try plain.compress(with: .zlib(configuration: .init(compressionLevel: .bestCompression)))
        } catch {
            throw .zlib("\(error)")
        }
    }

    /// The bytes inside the zlib stream (what `encodeCompressed` deflates).
    func compressedPayload() throws(CompressedRegisterError) -> ByteBuffer {
        let table = topicConfigSerializeWrapper.topicConfigTable
        var out = ByteBuffer()
        out.reserveCapacity(64 + table.count * 48)
        Self.writeChunk(Array(JSONBody.encode(topicConfigSerializeWrapper.dataVersion).readableBytesView), to: &out)
        out.writeInteger(Int32(table.count))
        for name in table.keys.sorted() {
            let t = table[name]!
            // Java splits the line on single spaces into exactly five fields.
            guard !t.topicName.isEmpty, !t.topicName.contains(" "), !t.topicFilterType.contains(" ") else {
                throw .unencodableTopic(t.topicName)
            }
            let line = "\(t.topicName) \(t.readQueueNums) \(t.writeQueueNums) \(t.perm) \(t.topicFilterType)"
            Self.writeChunk(Array(line.utf8), to: &out)
        }
        Self.writeChunk(Array(JSONBody.encode(filterServerList).readableBytesView), to: &out)
        return out
    }

    /// Inflates and parses the compressed form; throws on a stream that does not inflate within
    /// `maxInflatedBytes`, a truncated payload or a malformed topic line (Java fails the registration too).
    /// Bytes after the filter-server list are ignored, as Java does.
    public static func decodeCompressed(
        _ body: ByteBuffer, maxInflatedBytes: Int = maxInflatedBytes
    ) throws(CompressedRegisterError) -> RegisterBrokerBody {
        var input = body
        let plain: ByteBuffer
        do {
            plain = try input.decompress(with: .zlib(), maxSize: maxInflatedBytes)
        } catch {
            throw .zlib("\(error)")
        }
        return try decodePayload(plain)
    }

    static func decodePayload(_ payload: ByteBuffer) throws(CompressedRegisterError) -> RegisterBrokerBody {
        var p = payload
        let dataVersion: DataVersion
        do {
            dataVersion = try JSONBody.decode(DataVersion.self, from: try readChunk(&p))
        } catch let error as CompressedRegisterError {
            throw error
        } catch {
            throw .malformed("data version: \(error)")
        }
        guard let count = p.readInteger(as: Int32.self), count >= 0 else { throw .malformed("topic count missing or negative") }
        var table: [String: TopicConfig] = [:]
        table.reserveCapacity(Int(count))
        for _ in 0..<count {
            let t = try parseTopicLine(try readChunk(&p))
            table[t.topicName] = t
        }
        let filterJSON = try readChunk(&p)
        // Java keeps an empty list when the JSON does not parse.
        let filterServers = (try? JSONBody.decode([String].self, from: filterJSON)) ?? []
        return RegisterBrokerBody(
            topicConfigSerializeWrapper: TopicConfigSerializeWrapper(topicConfigTable: table, dataVersion: dataVersion),
            filterServerList: filterServers)
    }

    /// `TopicConfig.decode`: five space-separated fields, the filter type one of Java's enum names.
    static func parseTopicLine(_ chunk: ByteBuffer) throws(CompressedRegisterError) -> TopicConfig {
        guard let line = chunk.getString(at: chunk.readerIndex, length: chunk.readableBytes) else {
            throw .malformed("topic line is not UTF-8")
        }
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count == 5, !f[0].isEmpty, let r = Int32(f[1]), let w = Int32(f[2]), let perm = Int32(f[3]),
              f[4] == "SINGLE_TAG" || f[4] == "MULTI_TAG"
        else { throw .malformed("bad topic line \"\(line)\"") }
        return TopicConfig(topicName: String(f[0]), readQueueNums: Int(r), writeQueueNums: Int(w), perm: Int(perm),
                           topicFilterType: String(f[4]))
    }

    private static func writeChunk(_ bytes: [UInt8], to out: inout ByteBuffer) {
        out.writeInteger(Int32(bytes.count))
        out.writeBytes(bytes)
    }

    private static func readChunk(_ p: inout ByteBuffer) throws(CompressedRegisterError) -> ByteBuffer {
        guard let n = p.readInteger(as: Int32.self), n >= 0, let chunk = p.readSlice(length: Int(n)) else {
            throw .malformed("payload truncated at byte \(p.readerIndex)")
        }
        return chunk
    }
}

public enum CompressedRegisterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The zlib stream could not be produced or inflated (or inflates past the limit).
    case zlib(String)
    /// The inflated payload does not follow the layout.
    case malformed(String)
    /// A topic name the space-separated line cannot carry.
    case unencodableTopic(String)

    public var description: String {
        switch self {
        case .zlib(let why): "compressed register body does not inflate: \(why)"
        case .malformed(let why): "malformed compressed register body: \(why)"
        case .unencodableTopic(let name): "topic \"\(name)\" cannot be written in the compressed register body"
        }
    }
}
