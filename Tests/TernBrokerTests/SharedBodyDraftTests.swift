import Foundation
import NIOCore
@testable import TernBroker
import TernChecksum
import TernMessage
import TernRemoting
import TernStorage
import Testing

/// A send's draft keeps its body in the request buffer; the store copies it from there into the log.
@Suite struct SharedBodyDraftTests {
    /// The wrapper must fit an existential's three inline words, or every send boxes it (one allocation).
    @Test func requestBodyFitsTheExistentialInline() {
        #expect(MemoryLayout<SendService.RequestBody>.size <= 3 * MemoryLayout<Int>.size)
    }

    @Test func draftSharesTheRequestBodyAndTheStoreCopiesIt() throws {
        let dir = NSTemporaryDirectory() + "tern-shared-body-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try startSmallStore(dir)
        defer { store.close() }

        // The body is a slice in the middle of a larger read buffer, as a frame's body is.
        var read = ByteBuffer(string: "header bytes|")
        let body = (0 ..< 3000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        read.writeBytes(body)
        read.writeString("|next frame")
        let slice = read.getSlice(at: 13, length: body.count)!
        let fields: RemotingExtFields = ["b": "T", "e": "0", "i": "TAGS\u{1}A\u{2}"]
        let header = try SendRequestHeader(fields, names: SendRequestHeader.shortNames)
        let draft = SendService.draft(header, queueId: 0, body: slice, bornHost: HostAddress("127.0.0.1:1")!,
                                      storeHost: HostAddress("127.0.0.1:2")!)
        guard case .shared = draft.body else { Issue.record("the draft copied the body"); return }
        #expect(draft.bodyCRC == CRC32.rocketmqBodyCRC(body))

        let stored = try store.append(draft)
        let record = try #require(store.message(at: stored.physicalOffset)).record
        #expect(Array(record.body) == body)
        #expect(record.bodyCRC == CRC32.rocketmqBodyCRC(body))
        #expect(Array(record.properties) == Array("TAGS\u{1}A\u{2}".utf8))
    }
}

/// A started store in `dir` with small segments and 64 KiB messages (close it; remove `dir`).
func startSmallStore(_ dir: String, segmentSize: Int = 1 << 20) throws -> MessageStore {
    var config = StoreConfig(root: dir)
    config.segmentSize = segmentSize
    config.maxMessageSize = 64 << 10
    config.prefaultSegments = false
    config.lmdbMapSize = 1 << 30
    return try MessageStore.open(config).start()
}
