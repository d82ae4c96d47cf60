import Foundation
import NIOCore
@testable import TernBroker
import TernMessage
import TernRemoting
import TernStorage
import Testing

/// A single message flagged compressed must carry a zlib body: one that does not inflate is refused with
/// MESSAGE_ILLEGAL and not stored; a real zlib body is stored as sent.
@Suite struct CompressedBodyTests {
    @Test func bodyFlaggedCompressedMustInflate() async throws {
        let f = try await BrokerFixture.start()
        try f.createTopic("Z")
        let plain = Array(repeating: UInt8(ascii: "x"), count: 10_000)
        for code in [RequestCode.sendMessage, RequestCode.sendMessageV2] {
            let fields = { (sysFlag: Int32) in
                code == RequestCode.sendMessage ? SendFrames.javaFields(topic: "Z", sysFlag: sysFlag)
                    : SendFrames.shortFields(topic: "Z", sysFlag: sysFlag)
            }
            // Not zlib: the plain bytes, and a gzip-like header.
            for junk in [plain, [0x1F, 0x8B, 0x08, 0x00] + plain] {
                let r = try await f.call(code, fields(SysFlag.compressed), body: SendFrames.buffer(junk))
                #expect(r.code == ResponseCode.messageIllegal)
                #expect(r.remark?.contains("flagged compressed") == true, "\(r.remark ?? "")")
            }
            let empty = try await f.call(code, fields(SysFlag.compressed))
            #expect(empty.code == ResponseCode.messageIllegal)
            let zlib = try await f.call(code, fields(SysFlag.compressed), body: SendFrames.buffer(try SendFrames.zlib(plain)))
            #expect(zlib.code == ResponseCode.success, "\(zlib.remark ?? "")")
        }
        let store = f.broker.store
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        #expect(try store.queueRange(QueueKey(topic: "Z", queueId: 0))?.max == 2, "only the two zlib bodies stored")
        await f.stop()
    }
}
