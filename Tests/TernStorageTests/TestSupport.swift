import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// A fresh directory under /tmp, removed by `cleanup()`.
struct TempDir {
    let path: String
    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = "/tmp/tern-tests/\(safe)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileSystem.removeRecursively(path)
        try! FileSystem.createDirectory(path)
    }
    func cleanup() { try? FileSystem.removeRecursively(path) }
}

enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case lmdb, inMemory
    var testDescription: String { rawValue }
    var config: StoreConfig.IndexBackend { self == .lmdb ? .lmdb : .inMemory }
}

func smallConfig(_ dir: TempDir, _ backend: Backend = .lmdb, segmentSize: Int = 1 << 20,
                 flush: StoreConfig.FlushMode = .defaultAsync) -> StoreConfig {
    var c = StoreConfig(root: dir.path)
    c.segmentSize = segmentSize
    c.maxMessageSize = min(64 * 1024, segmentSize / 8)
    c.indexBackend = backend.config
    c.flushMode = flush
    c.prefaultSegments = false
    c.lmdbMapSize = 1 << 30
    return c
}

let localHost = HostAddress(ip: (127, 0, 0, 1), port: 10911)
let producerHost = HostAddress(ip: (10, 0, 0, 7), port: 54321)

func draft(topic: String = "TopicTest", queueId: Int32 = 0, body: String, tags: String? = nil, keys: [String] = [],
           uniqueKey: String? = nil, sysFlag: Int32 = 0, extra: [(String, String)] = []) -> MessageDraft {
    var props: [(String, String)] = []
    if let tags { props.append(("TAGS", tags)) }
    if !keys.isEmpty { props.append(("KEYS", keys.joined(separator: " "))) }
    if let uniqueKey { props.append(("UNIQ_KEY", uniqueKey)) }
    props += extra
    return MessageDraft(topic: Array(topic.utf8), queueId: queueId, sysFlag: sysFlag, bornTimestamp: 1_700_000_000_000,
                        bornHost: producerHost, storeHost: localHost, body: Array(body.utf8),
                        properties: MessageProperties.encode(props))
}

func bodyString(_ m: StoredMessage) -> String { String(decoding: m.record.body, as: UTF8.self) }

/// Overwrites bytes of a file in place (corruption tests), through a separate mapping.
func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
    let size = try FileSystem.fileSize(path)
    let f = try MappedFile.open(path: path, size: size, create: false)
    let dst = f.mutableBytes(offset..<(offset + bytes.count))
    for (i, b) in bytes.enumerated() { dst[i] = b }
    try f.sync(offset..<(offset + bytes.count))
}

func segmentPath(_ dir: TempDir, base: Int64) -> String {
    dir.path + "/commitlog/" + Segment.fileName(base: base)
}
