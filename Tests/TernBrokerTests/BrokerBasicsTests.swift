import TernRemoting
import Testing

@Suite struct BrokerBasicsTests {
    @Test func unknownRequestCodeIsNotSupported() async throws {
        let f = try await BrokerFixture.start()
        let r = try await f.call(9999)
        #expect(r.code == ResponseCode.requestCodeNotSupported)
        #expect(r.remark == " request type 9999 not supported")
        // The connection-level server stays up for the next client.
        let r2 = try await f.call(9998)
        #expect(r2.code == ResponseCode.requestCodeNotSupported)
        await f.stop()
    }
}
