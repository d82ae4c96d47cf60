import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
@testable import TernTransport
import Testing

/// A connection's sends decode their properties into one recycled array (`RemotingConnection.takeSpareBytes`):
/// every record must still hold exactly its own request's properties, longer, shorter or absent after another.
@Suite struct SendPropertiesReuseTests {
    @Test func eachSendStoresItsOwnPropertiesOnOneConnection() async throws {
        let f = try await BrokerFixture.start()
        let connection = try await f.connect()
        let sets: [[(String, String)]] = [
            [("KEYS", String(repeating: "k", count: 300)), ("TAGS", "long")],
            [("TAGS", "s")],
            [],
            [("KEYS", "x"), ("UNIQ_KEY", "AC11000100002A9F0000000000000001"), ("WAIT", "true")],
            [("TAGS", "é\u{1F600}")],
            [("KEYS", String(repeating: "z", count: 5000))],  // longer than a kept array: not kept
            [("TAGS", "after")],
        ]
        for (i, entries) in sets.enumerated() {
            let r = try await f.call(RequestCode.sendMessageV2,
                                     SendFrames.shortFields(topic: "P", queueId: 0, properties: SendFrames.properties(entries)),
                                     body: SendFrames.buffer("m\(i)"), on: connection)
            #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        }
        let stored = try SendFrames.stored(f.broker.store, "P", 0)
        try #require(stored.count == sets.count)
        for (record, entries) in zip(stored, sets) {
            let sent: Set<String> = ["KEYS", "TAGS", "UNIQ_KEY", "WAIT"]
            #expect(record.properties.filter { sent.contains($0.0) }.map { "\($0.0)=\($0.1)" }
                    == entries.map { "\($0.0)=\($0.1)" })
        }
        connection.close()
        await f.stop()
    }

    /// The kept array comes back empty with its storage (no allocation to refill it); an oversized or empty
    /// one is not kept.
    @Test func spareBytesComeBackEmptyWithTheirStorage() async throws {
        let f = try await BrokerFixture.start()
        let connection = try await f.connect()
        try await connection.channel.eventLoop.submit {
            #expect(connection.takeSpareBytes().capacity == 0)
            var bytes = [UInt8](repeating: 7, count: 100)
            let base = bytes.withUnsafeBufferPointer { $0.baseAddress }
            connection.keepSpareBytes(bytes)
            bytes = []
            let again = connection.takeSpareBytes()
            #expect(again.isEmpty && again.capacity >= 100)
            #expect(again.withUnsafeBufferPointer { $0.baseAddress } == base)
            #expect(connection.takeSpareBytes().capacity == 0)  // taken once
            connection.keepSpareBytes([UInt8](repeating: 0, count: RemotingConnection.spareBytesCapacityMax + 1))
            #expect(connection.takeSpareBytes().capacity == 0)
        }.get()
        // Off the event loop: nothing is kept or handed out (and nothing traps).
        connection.keepSpareBytes([1, 2, 3])
        #expect(connection.takeSpareBytes().capacity == 0)
        connection.close()
        await f.stop()
    }
}
