import NIOCore
import NIOPosix
import Testing
import TernStorage
@testable import TernReplication

/// The slave reports once per socket read burst, not once per chunk.
@Suite struct ReplicationBurstTests {
    /// A raw master sends 20 small chunks in one write: the slave applies them all and reports its new end a few
    /// times at most (one report per chunk would be 20 after the one on connect).
    @Test func slaveReportsOncePerReadBurst() async throws {
        let stores = try StorePair()
        defer { stores.close() }
        try appendRecords(stores.master, count: 12)
        let end = stores.master.maxPhysicalOffset
        let chunk = Int((end + 19) / 20)
        var frames = ByteBuffer(), chunks = 0
        var at: Int64 = 0
        while at < end {
            let count = stores.master.withLogBytes(from: at, maxCount: chunk) { bytes in
                HAProtocol.writeTransferHeader(offset: at, size: Int32(bytes.count), to: &frames)
                frames.writeBytes(bytes)
                return bytes.count
            }
            at += Int64(try #require(count))
            chunks += 1
        }
        #expect(chunks >= 20)

        let server = try await ServerBootstrap(group: .singletonMultiThreadedEventLoopGroup)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = try #require(server.channel.localAddress?.port)
        var config = testHAConfig(batch: chunk)
        config.heartbeatInterval = .seconds(30)  // no periodic report during the test
        config.housekeepingInterval = .seconds(60)
        let client = HAClient(store: stores.slave, config: config, group: .singletonMultiThreadedEventLoopGroup,
                              logger: testLogger, masterAddress: { "127.0.0.1:\(port)" })
        let following = Task { _ = try? await client.run() }
        defer { following.cancel() }

        // The master side reads reports until the slave acks `end`; a slave that never does fails the test at
        // the deadline instead of hanging it.
        let reports: [Int64] = try await withThrowingTaskGroup(of: [Int64]?.self) { race in
            race.addTask { [frames] in
                try await server.executeThenClose { links in
                    for try await link in links {
                        return try await link.executeThenClose { input, output in
                            var reports: [Int64] = [], pending = ByteBuffer(), sent = false
                            for try await var bytes in input {
                                pending.writeBuffer(&bytes)
                                while let report = pending.readInteger(as: Int64.self) { reports.append(report) }
                                if !sent {
                                    try await output.write(frames)  // all chunks in one write
                                    sent = true
                                }
                                if reports.last == end { break }
                            }
                            return reports
                        }
                    }
                    return []
                }
            }
            race.addTask { try await Task.sleep(for: .seconds(30)); return nil }
            let first = try await race.next() ?? nil
            race.cancelAll()
            return try #require(first, "the slave did not report \(end) within 30 s")
        }
        #expect(reports.first == 0)
        #expect(reports.last == end)
        #expect(reports.count <= 4, "reports: \(reports)")
        #expect(stores.slave.replicationOffset == end)
    }
}
