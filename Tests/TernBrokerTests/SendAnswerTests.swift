import NIOCore
@testable import TernBroker
import TernRemoting
import Testing

/// The SEND_OK answer's header as Java and C++ clients parse it. The JSON encoder copies the answer template's
/// pre-rendered runs; these bytes must stay those of the field list the answer was built from before.
@Suite struct SendAnswerTests {
    /// The header bytes of `fields` in a success response to opaque 7.
    static func header(_ fields: RemotingExtFields, _ serializeType: RemotingSerializeType) throws -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        try RemotingFrame.write(RemotingCommand(code: 0, opaque: 7, flag: .response, extFields: fields,
                                                serializeType: serializeType), into: &buffer)
        return Array(buffer.readableBytesView.dropFirst(8))
    }

    /// The answer as the field list it was built from before the template.
    static func fieldList(_ values: [String]) -> RemotingExtFields {
        var list = RemotingExtFields()
        for (key, value) in zip(["msgId", "queueId", "queueOffset", "MSG_REGION", "TRACE_ON"], values) { list[key] = value }
        return list
    }

    @Test func jsonAnswerIsItsFieldList() throws {
        // 10.0.0.5:10911, physical offset 0x1234, queue 3, queue offset 42.
        for (template, traceOn) in [(SendProcessor.answer, "true"), (SendProcessor.answerUntraced, "false")] {
            let f = RemotingExtFields(template, words: 0x0A00_0005_0000_2A9F, 0x1234, 3, 42)
            let list = Self.fieldList(["0A00000500002A9F0000000000001234", "3", "42", "DefaultRegion", traceOn])
            let golden = #"{"code":0,"flag":1,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":408,"#
                + #""extFields":{"msgId":"0A00000500002A9F0000000000001234","queueId":"3","queueOffset":"42","#
                + #""MSG_REGION":"DefaultRegion","TRACE_ON":"\#(traceOn)"}}"#
            #expect(try Self.header(f, .json) == Array(golden.utf8))
            #expect(try Self.header(list, .json) == Array(golden.utf8))
            #expect(try Self.header(f, .rocketmq) == (try Self.header(list, .rocketmq)))
        }
    }

    /// Negative and extreme words render as the field list does (signed decimals, all 32 hex digits).
    @Test func extremeWordsAreTheirFieldList() throws {
        let f = RemotingExtFields(SendProcessor.answer, words: .max, 0, UInt64(bitPattern: -1), UInt64(bitPattern: Int64.min))
        let list = Self.fieldList(["FFFFFFFFFFFFFFFF0000000000000000", "-1", "-9223372036854775808", "DefaultRegion", "true"])
        #expect(try Self.header(f, .json) == (try Self.header(list, .json)))
    }
}
