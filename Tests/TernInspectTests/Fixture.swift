import Foundation
import Testing
import TernMessage
import TernStorage
import TernSystem

/// A store written by `MessageStore` and closed, for OfflineStore to inspect; its directory is
/// /tmp/tern-tests/<test>-<random>, removed by `remove()`.
///
/// Content: `count` records of 1 KiB bodies over 1 MiB segments (several segments), topics "Orders" (queues
/// 0-2) and "Audit" (queue 0); every record has TAGS, two KEYS and a UNIQ_KEY; every 25th record is a
/// prepared transaction half (indexed by key, in no consume queue).
struct Fixture {
    struct Appended {
        var result: AppendResult
        var topic: String
        var queueId: Int32
        var keys: [String]
        var uniqueKey: String
        var consumable: Bool
    }

    let root: String
    private(set) var appended: [Appended] = []
    private(set) var validEnd: Int64 = 0
    static let group = "billing"

    init(_ name: String = #function, count: Int = 1_200) throws {
        root = "/tmp/tern-tests/inspect-\(name.filter { $0.isLetter || $0.isNumber })-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.createDirectory(root)
        let store = try MessageStore.open(Self.config(root)).start()
        defer { store.close() }
        for i in 0..<count {
            let topic = i % 4 == 3 ? "Audit" : "Orders"
            let queueId = Int32(topic == "Audit" ? 0 : i % 3)
            let keys = ["order-\(i)", "customer-\(i % 7)"]
            let unique = String(format: "%032X", i)
            let prepared = i % 25 == 24
            let props = MessageProperties.encode([("TAGS", i % 2 == 0 ? "even" : "odd"), ("KEYS", keys.joined(separator: " ")),
                                                  ("UNIQ_KEY", unique)])
            let body = Array("body-\(i)-".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1_000)
            let draft = MessageDraft(topic: Array(topic.utf8), queueId: queueId,
                                     sysFlag: prepared ? SysFlag.transactionPrepared : 0, bornTimestamp: 1_700_000_000_000,
                                     bornHost: HostAddress(ip: (10, 0, 0, 7), port: 5_000),
                                     storeHost: HostAddress(ip: (127, 0, 0, 1), port: 10_911), body: body,
                                     properties: props)
            appended.append(Appended(result: try store.append(draft), topic: topic, queueId: queueId, keys: keys,
                                     uniqueKey: unique, consumable: !prepared))
        }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        try store.commitConsumerOffset(group: Self.group, queue: QueueKey(topic: "Orders", queueId: 1), offset: 42)
        validEnd = store.maxPhysicalOffset
    }

    static func config(_ root: String) -> StoreConfig {
        var c = StoreConfig(root: root)
        c.segmentSize = 1 << 20
        c.maxMessageSize = 64 * 1024
        c.prefaultSegments = false
        c.lmdbMapSize = 1 << 30
        return c
    }

    func remove() { try? FileSystem.removeRecursively(root) }

    func open(_ access: OfflineStore.Options.IndexAccess = .readOnly) throws -> OfflineStore {
        var options = OfflineStore.Options()
        options.indexAccess = access
        options.lmdbMapSize = 1 << 30
        return try OfflineStore.open(root: root, options: options)
    }

    /// The index opened directly (writable), for tests that damage it.
    func openIndex() throws -> LMDBIndexStore { try LMDBIndexStore(path: root + "/index", mapSize: 1 << 30) }

    var segmentSize: Int64 { 1 << 20 }

    /// Overwrites bytes of the log at a physical offset, through a separate writable mapping.
    func overwriteLog(at offset: Int64, with bytes: [UInt8]) throws { try Self.overwriteLog(root: root, at: offset, with: bytes) }

    /// The same on a copy of a fixture's store at `root` (bytes within one segment).
    static func overwriteLog(root: String, at offset: Int64, with bytes: [UInt8]) throws {
        let segmentSize: Int64 = 1 << 20
        let base = offset - offset % segmentSize
        let file = try MappedFile.open(path: root + "/commitlog/" + Segment.fileName(base: base), size: Int(segmentSize),
                                       create: false)
        let local = Int(offset - base)
        let target = file.mutableBytes(local..<(local + bytes.count))
        for (i, b) in bytes.enumerated() { target[i] = b }
        try file.sync(local..<(local + bytes.count))
    }

    /// Flips one body byte of a record (the body starts after the 84-byte header and the 4-byte length).
    func flipBodyByte(of record: Appended) throws {
        try overwriteLog(at: record.result.physicalOffset + 88 + 3, with: [0xFF])
    }

    /// Per queue: the expected [0, count) range.
    var expectedQueues: [QueueKey: Int64] {
        var out: [QueueKey: Int64] = [:]
        for a in appended where a.consumable { out[QueueKey(topic: a.topic, queueId: a.queueId), default: 0] += 1 }
        return out
    }

    /// An appended record in segment `segment` (by index), about in its middle.
    func record(inSegment segment: Int64) -> Appended {
        let inside = appended.filter { $0.result.physicalOffset / segmentSize == segment }
        return inside[inside.count / 2]
    }
}
