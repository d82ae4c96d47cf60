import NIOCore
import TernRemoting
import Testing

@Suite("Golden bytes")
struct GoldenTests {
    /// The request C++ 1.2.3 writes (remoting.md §2): jsoncpp FastWriter, keys sorted, numbers mixed with
    /// strings in extFields, trailing newline.
    static let cppSendJSON =
        #"{"code":10,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"...","batch":"0","#
        + #""bornTimestamp":"1700000000000","defaultTopic":"TBW102","defaultTopicQueueNums":4,"flag":0,"#
        + #""producerGroup":"PG","properties":"...","queueId":2,"reconsumeTimes":"0","sysFlag":0,"topic":"T","#
        + #""unitMode":"0"},"flag":0,"language":"CPP","opaque":17,"remark":"","version":64}"# + "\n"

    @Test func cppSendRequestDecodes() throws {
        let body = Array("hello".utf8)
        let command = try #require(try decodeOne(FrameBuilder.jsonFrame(Self.cppSendJSON, body: body)))
        #expect(command.code == RequestCode.sendMessage)
        #expect(command.language == .cpp)
        #expect(command.version == 64)
        #expect(command.opaque == 17)
        #expect(command.flag == [])
        #expect(!command.isResponse && !command.isOneway)
        #expect(command.remark == "")
        #expect(command.serializeType == .json)
        #expect(command.body?.bytes == body)

        let fields = command.extFields
        #expect(fields.count == 15)
        #expect(fields["defaultTopicQueueNums"] == "4")
        #expect(fields["flag"] == "0")
        #expect(fields["queueId"] == "2")
        #expect(fields["sysFlag"] == "0")
        #expect(fields["AccessKey"] == "")
        #expect(fields["OnsChannel"] == "ALIYUN")
        #expect(fields["bornTimestamp"] == "1700000000000")
        #expect(fields.int64("bornTimestamp") == 1_700_000_000_000)
        #expect(fields.int32("queueId") == 2)
        #expect(fields.bool("batch") == false)
        #expect(fields.bool("unitMode") == false)
        #expect(fields.string("topic") == "T")
        #expect(fields["maxReconsumeTimes"] == nil)
        #expect(fields.keys.first == "AccessKey")
    }

    @Test func jsonResponseEncodesExactly() throws {
        let request = try #require(try decodeOne(FrameBuilder.jsonFrame(Self.cppSendJSON)))
        var response = request.makeResponse(code: ResponseCode.success)
        response.extFields["msgId"] = "0A00000500002A9F0000000000000000"
        response.extFields.set("queueId", 2)
        response.extFields.set("queueOffset", Int64(12))
        let json =
            #"{"code":0,"flag":1,"language":"JAVA","opaque":17,"serializeTypeCurrentRPC":"JSON","version":408,"#
            + #""extFields":{"msgId":"0A00000500002A9F0000000000000000","queueId":"2","queueOffset":"12"}}"#
        #expect(try encode(response).bytes == FrameBuilder.jsonFrame(json))
    }

    @Test func emptyExtFieldsAndRemarkAreWritten() throws {
        let command = RemotingCommand(code: 3, opaque: 5, flag: .response, remark: " request type 999 not supported")
        let json =
            #"{"code":3,"flag":1,"language":"JAVA","opaque":5,"remark":" request type 999 not supported","#
            + #""serializeTypeCurrentRPC":"JSON","version":408,"extFields":{}}"#
        #expect(try encode(command).bytes == FrameBuilder.jsonFrame(json))
    }

    @Test func controlCharactersAreEscaped() throws {
        var command = RemotingCommand(code: 10, opaque: 1)
        command.extFields["properties"] = "KEYS\u{1}k1\u{2}TAGS\u{1}a\"b\\c\n\u{1F}é"
        let header = try encode(command).bytes.dropFirst(8)
        let text = String(decoding: header, as: UTF8.self)
        #expect(text.hasSuffix(#""extFields":{"properties":"KEYS\u0001k1\u0002TAGS\u0001a\"b\\c\n\u001fé"}}"#))
        #expect(try decodeOne(encode(command).bytes) == command)
    }

    /// A ROCKETMQ header built by hand from the reference table.
    @Test func binaryHeaderBothDirections() throws {
        var header = FrameBuilder.binaryFixedFields(code: 310, language: 0, version: 408, opaque: 99, flag: 2)
        header.be(Int32(2))
        header.raw("ok")  // remark
        var ext = FrameBuilder()
        ext.be(Int16(1))
        ext.raw("a")
        ext.be(Int32(2))
        ext.raw("PG")
        ext.be(Int16(1))
        ext.raw("b")
        ext.be(Int32(3))
        ext.raw("中")
        header.be(Int32(ext.bytes.count))
        header.raw(ext.bytes)
        #expect(header.bytes.count == 21 + 2 + ext.bytes.count)
        let frame = FrameBuilder.frame(type: 1, header: header.bytes, body: [1, 2, 3])

        let command = try #require(try decodeOne(frame))
        let expected = RemotingCommand(
            code: RequestCode.sendMessageV2, language: .java, version: 408, opaque: 99, flag: .oneway, remark: "ok",
            extFields: ["a": "PG", "b": "中"], body: ByteBuffer(bytes: [1, 2, 3]), serializeType: .rocketmq
        )
        #expect(command == expected)
        #expect(command.isOneway)
        #expect(try encode(expected).bytes == frame)
    }

    @Test func binaryEmptyRemarkAndValuesAreAbsent() throws {
        var header = FrameBuilder.binaryFixedFields(code: 11, language: 1, version: 64, opaque: 1, flag: 0)
        header.be(Int32(0))  // no remark
        var ext = FrameBuilder()
        ext.be(Int16(5))
        ext.raw("empty")
        ext.be(Int32(0))
        header.be(Int32(ext.bytes.count))
        header.raw(ext.bytes)
        let command = try #require(try decodeOne(FrameBuilder.frame(type: 1, header: header.bytes)))
        #expect(command.remark == nil)
        #expect(command.extFields.isEmpty)
        #expect(command.body == nil)
        #expect(command.language == .cpp)
    }

    @Test func lengthPrefixCountsHeaderMarkHeaderAndBody() throws {
        let command = RemotingCommand(code: 34, opaque: 7, body: ByteBuffer(bytes: Array(repeating: 0xAB, count: 10)))
        var buffer = try encode(command)
        let length = buffer.readInteger(as: UInt32.self) ?? 0
        let mark = buffer.readInteger(as: UInt32.self) ?? 0
        #expect(Int(length) == buffer.readableBytes + 4)
        #expect(mark >> 24 == 0)
        #expect(Int(mark & 0xFF_FFFF) == buffer.readableBytes - 10)
    }
}
