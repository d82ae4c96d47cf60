import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TernMessage
import TernStorage
@testable import TernReplication

/// A fresh store directory under /tmp, removed by `cleanup()`.
struct StoreDirectory {
    let path: String
    init(_ name: String) {
        path = "/tmp/tern-tests/replication-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }

    /// 64 KiB segments so a few hundred records span several of them.
    func config(role: StoreRole) -> StoreConfig {
        var c = StoreConfig(root: path)
        c.segmentSize = 64 * 1024
        c.maxMessageSize = 8 * 1024
        c.prefaultSegments = false
        c.lmdbMapSize = 1 << 28
        c.role = role
        return c
    }
}

/// A master (leader) and a slave (follower) store, started, each in a fresh directory.
struct StorePair {
    let master: MessageStore
    let slave: MessageStore
    private let dirs: [StoreDirectory]

    init() throws {
        dirs = [StoreDirectory("master"), StoreDirectory("slave")]
        master = try MessageStore.open(dirs[0].config(role: .leader)).start()
        slave = try MessageStore.open(dirs[1].config(role: .follower)).start()
    }

    /// Closes both stores and removes their directories.
    func close() {
        master.close()
        slave.close()
        for d in dirs { d.cleanup() }
    }
}

/// Records of varied sizes over two topics × three queues.
func appendRecords(_ store: MessageStore, count: Int, from first: Int = 0) throws {
    let host = HostAddress(ip: (127, 0, 0, 1), port: 10911)
    for i in first..<(first + count) {
        let body = Array(String(repeating: "r\(i)-", count: 1 + (i * 37) % 600).utf8)
        let props = MessageProperties.encode([("TAGS", "t\(i % 3)"), ("KEYS", "k\(i)")])
        _ = try store.append(MessageDraft(topic: Array((i % 2 == 0 ? "TopicA" : "TopicB").utf8), queueId: Int32(i % 3),
                                          sysFlag: 0, bornTimestamp: 1_700_000_000_000, bornHost: host,
                                          storeHost: host, body: body, properties: props))
    }
}

/// Replication settings small enough that chunks cut records and heartbeats are frequent.
func testHAConfig(batch: Int = 1_000) -> HAConfig {
    var c = HAConfig()
    c.listenHost = "127.0.0.1"
    c.listenPort = 0
    c.transferBatchSize = batch
    c.heartbeatInterval = .milliseconds(200)
    c.housekeepingInterval = .seconds(5)
    c.reconnectPause = .milliseconds(100)
    return c
}

let testLogger = Logger(label: "tern.replication.test")

/// Waits for `condition` with a deadline (never a fixed sleep); false when the deadline passed.
func eventually(_ deadline: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// Each of the slave's segment files equals the master's file of the same name, byte for byte.
func expectSameSegments(master: MessageStore, slave: MessageStore, sourceLocation: SourceLocation = #_sourceLocation) {
    let names = slave.segments.map { Segment.fileName(base: $0.base) }
    #expect(!names.isEmpty, sourceLocation: sourceLocation)
    for name in names {
        let a = FileManager.default.contents(atPath: master.config.commitLogPath + "/" + name)
        let b = FileManager.default.contents(atPath: slave.config.commitLogPath + "/" + name)
        #expect(a != nil && a == b, "segment \(name)", sourceLocation: sourceLocation)
    }
}

/// The slave's consume queues (all of the master's with `allQueues`) hold the same entries as the master's from the slave's first record on.
func expectSameIndexes(master: MessageStore, slave: MessageStore, allQueues: Bool = true,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(slave.waitUntilDispatched(slave.maxPhysicalOffset), sourceLocation: sourceLocation)
    #expect(master.waitUntilDispatched(master.maxPhysicalOffset), sourceLocation: sourceLocation)
    let masterQueues = try master.queues(), slaveQueues = try slave.queues()
    if allQueues { #expect(Set(masterQueues.keys) == Set(slaveQueues.keys), sourceLocation: sourceLocation) }
    #expect(!slaveQueues.isEmpty, sourceLocation: sourceLocation)
    for (queue, range) in slaveQueues {
        #expect(masterQueues[queue]?.max == range.max, "\(queue)", sourceLocation: sourceLocation)
        let count = Int(range.max - range.min)
        let a = try master.entries(queue, from: range.min, maxCount: count)
        let b = try slave.entries(queue, from: range.min, maxCount: count)
        #expect(a.count == count && a == b, "\(queue)", sourceLocation: sourceLocation)
    }
}

/// A master's HA server and a slave's HA client, each running in a task of its own.
struct ReplicationLink {
    let service: HAService
    var client: HAClient
    let serving: Task<Void, Never>
    var following: Task<Void, Never>

    static func start(master: MessageStore, slave: MessageStore) async throws -> ReplicationLink {
        let service = try await HAService.bind(store: master, config: testHAConfig(), group: .singletonMultiThreadedEventLoopGroup,
                                               logger: testLogger)
        let serving = Task { _ = try? await service.run() }
        let (client, following) = follow(service, with: slave)
        return ReplicationLink(service: service, client: client, serving: serving, following: following)
    }

    /// A client for `slave` following `service`, running.
    static func follow(_ service: HAService, with slave: MessageStore) -> (HAClient, Task<Void, Never>) {
        let client = HAClient(store: slave, config: testHAConfig(), group: .singletonMultiThreadedEventLoopGroup,
                              logger: testLogger, masterAddress: { "127.0.0.1:\(service.port)" })
        return (client, Task { _ = try? await client.run() })
    }

    func stopFollowing() async {
        following.cancel()
        await following.value
    }

    func stop() async {
        await stopFollowing()
        serving.cancel()
        await serving.value
    }
}
