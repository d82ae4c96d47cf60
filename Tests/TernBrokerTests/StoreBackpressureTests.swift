import Foundation
import Synchronization
import Testing
import TernMessage
import TernStorage
import TernTransport
@testable import TernBroker

/// Records what backpressure did to a "connection".
private final class ReadRecorder: ReadPausable {
    let state = Mutex<(paused: Bool, pauses: Int)>((false, 0))
    func pauseReading(_ reason: ReadPauseReason) { state.withLock { $0.paused = true; $0.pauses += 1 } }
    func resumeReading(_ reason: ReadPauseReason) { state.withLock { $0.paused = false } }
}

/// Appends never sleep; a sender is paused while the indexes lag and always resumed once they catch up.
@Suite("Store backpressure")
struct StoreBackpressureTests {
    @Test func senderPausedWhileIndexesLagIsResumedWhenTheyCatchUp() throws {
        let dir = NSTemporaryDirectory() + "tern-backpressure-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var sc = StoreConfig(root: dir)
        sc.segmentSize = 4 << 20
        sc.maxMessageSize = 4096
        sc.indexBackend = .inMemory
        sc.maxDispatchLagBytes = 0  // every append lags until the dispatcher has indexed it
        let store = try MessageStore.open(sc).start()
        defer { store.close() }
        let backpressure = StoreBackpressure(store: store)
        defer { backpressure.stop() }
        let host = HostAddress("127.0.0.1:40000")!
        let senders = (0..<4).map { _ in ReadRecorder() }
        var lastEnd: Int64 = 0
        for round in 0..<200 {
            let d = MessageDraft(topic: Array("T".utf8), queueId: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
                                 body: Array(repeating: UInt8(round & 0xff), count: 1024), properties: [])
            lastEnd = try store.append(d).endOffset
            backpressure.pauseIfLagging(senders[round % senders.count])
        }
        #expect(store.waitUntilDispatched(lastEnd))
        // Waits on the condition (a resume runs on the dispatcher thread right after its batch), with a deadline.
        let deadline = Date().addingTimeInterval(10)
        while senders.contains(where: { $0.state.withLock { $0.paused } }) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.001)
        }
        #expect(senders.allSatisfy { !$0.state.withLock { $0.paused } }, "a sender stayed paused after the indexes caught up")
        #expect(backpressure.pausedCount == 0)
        // The pause really happened: an append is visible in the log before the dispatcher indexed it.
        #expect(senders.reduce(0) { $0 + $1.state.withLock { $0.pauses } } > 0)
    }
}
