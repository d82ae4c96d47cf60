import Foundation
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
@testable import TernBroker
import TernMessage
import TernRemoting
import TernStorage
import TernTransport
import Testing

/// SIGTERM of a real `tern broker` while sync sends and offset commits are in flight: the process exits
/// cleanly, and every acknowledged message and committed offset is in the store it leaves behind.
@Suite struct GracefulShutdownTests {
    static let topic = "GS"
    static let group = "CG"
    static let senders = 4

    struct Acked: Sendable {
        var messages: [(offset: Int64, body: String)] = []
        var offsets: [Int32: Int64] = [:]
    }

    /// Sends (and every 5th time commits an offset) on its own connection until the broker refuses or goes.
    static func sendUntilRefused(_ address: String, sender: Int, group: MultiThreadedEventLoopGroup,
                                 acked: NIOLockedValueBox<Acked>) async {
        guard let c = try? await RemotingClient.connect(to: address, group: group) else { return }
        defer { c.close() }
        let queueId = Int32(sender)
        for i in 0..<100_000 {
            let body = "s\(sender)-\(i)"
            let fields = SendFrames.javaFields(topic: topic, queueId: queueId, properties: SendFrames.properties([]),
                                               defaultTopicQueueNums: senders)
            guard let r = try? await c.request(RemotingCommand(code: RequestCode.sendMessage, language: .cpp, version: 64,
                                                               extFields: fields, body: SendFrames.buffer(body)),
                                               timeout: .seconds(10)),
                  r.code == ResponseCode.success,
                  let offset = MessageId.decodeOffsetId(r.extFields["msgId"] ?? "")?.physicalOffset else { return }
            acked.withLockedValue { $0.messages.append((offset, body)) }
            guard i % 5 == 4 else { continue }
            var commit: RemotingExtFields = ["consumerGroup": Self.group, "topic": topic]
            commit.set("queueId", queueId)
            commit.set("commitOffset", Int64(i))
            guard let cr = try? await c.request(RemotingCommand(code: RequestCode.updateConsumerOffset, language: .cpp,
                                                                version: 64, extFields: commit), timeout: .seconds(10)),
                  cr.code == ResponseCode.success else { return }
            acked.withLockedValue { $0.offsets[queueId] = Int64(i) }
        }
    }

    @Test func sigtermUnderSyncSendsKeepsEveryAcknowledgedMessageAndOffset() async throws {
        let dir = NSTemporaryDirectory() + "tern-graceful-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".conf") }
        let (process, address) = try TransactionCrashTests.startBroker(store: dir, config: "flushDiskType=SYNC_FLUSH\n")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let acked = NIOLockedValueBox(Acked())
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for s in 0..<Self.senders {
                tasks.addTask { await Self.sendUntilRefused(address, sender: s, group: group, acked: acked) }
            }
            // SIGTERM once the load runs, with sends and commits in flight.
            #expect(await eventually(timeoutMillis: 30_000) { acked.withLockedValue { $0.messages.count } >= 400 })
            process.terminate()
            try await tasks.waitForAll()
        }
        process.waitUntilExit()
        try? await group.shutdownGracefully()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)

        // Restart (recovery) over what the process left: a clean close leaves nothing to replay.
        var config = StoreConfig(root: dir)
        config.segmentSize = 64 << 20
        let store = try MessageStore.open(config).start()
        defer { store.close() }
        #expect(store.recovery.replayedRecords == 0, "\(store.recovery)")
        let result = acked.withLockedValue { $0 }
        #expect(result.messages.count >= 400)
        for (offset, body) in result.messages {
            let stored = store.message(at: offset)
            #expect(stored.map { String(decoding: $0.record.body, as: UTF8.self) } == body, "offset \(offset)")
        }
        #expect(result.offsets.count == Self.senders)
        for (queueId, offset) in result.offsets {
            let kept = try store.consumerOffset(group: Self.group, queue: QueueKey(topic: Self.topic, queueId: queueId))
            #expect(kept == offset, "queue \(queueId)")
        }
    }
}
