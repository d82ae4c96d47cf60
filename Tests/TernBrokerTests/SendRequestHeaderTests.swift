import NIOCore
@testable import TernBroker
import TernRemoting
import Testing

/// The typed send header, read from decoded tables (JSON and binary) in one pass over their fields.
@Suite struct SendRequestHeaderTests {
    static func frame(type: UInt8, header: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(4 + header.count))
        buffer.writeInteger(UInt32(type) << 24 | UInt32(header.count))
        buffer.writeBytes(header)
        return buffer
    }

    static func json(_ extFields: String, code: Int = 310) throws -> RemotingExtFields {
        var buffer = frame(type: 0, header: Array(#"{"code":\#(code),"language":"JAVA","extFields":{\#(extFields)}}"#.utf8))
        return try #require(try RemotingFrame.read(from: &buffer, frameSizeMax: 1 << 20)).extFields
    }

    static func binary(_ pairs: [(String, String)]) throws -> RemotingExtFields {
        var header = ByteBuffer()
        header.writeInteger(Int16(310))
        header.writeInteger(UInt8(0))
        header.writeInteger(Int16(399))
        header.writeInteger(Int32(1))
        header.writeInteger(Int32(0))
        header.writeInteger(Int32(0))
        var ext = ByteBuffer()
        for (key, value) in pairs {
            ext.writeInteger(Int16(key.utf8.count))
            ext.writeString(key)
            ext.writeInteger(Int32(value.utf8.count))
            ext.writeString(value)
        }
        header.writeInteger(Int32(ext.readableBytes))
        header.writeBuffer(&ext)
        var buffer = frame(type: 1, header: Array(header.readableBytesView))
        return try #require(try RemotingFrame.read(from: &buffer, frameSizeMax: 1 << 20)).extFields
    }

    static let javaV2 = #""a":"PG","b":"TopicWithALongerName","c":"TBW102","d":"8","e":"3","f":"4","g":"1700000000123","#
        + #""h":"5","i":"TAGS\u0001t\u0002KEYS\u0001k\u0002","j":"2","k":"true","l":"16","m":"false","n":"broker-a""#

    func expectJavaV2(_ h: SendRequestHeader) {
        #expect(h.producerGroup == "PG")
        #expect(h.topic == "TopicWithALongerName")
        #expect(h.topicUTF8 == Array("TopicWithALongerName".utf8))
        #expect(h.defaultTopic == "TBW102")
        #expect(h.defaultTopicQueueNums == 8)
        #expect(h.queueId == 3)
        #expect(h.sysFlag == 4)
        #expect(h.bornTimestamp == 1_700_000_000_123)
        #expect(h.flag == 5)
        #expect(h.properties == Array("TAGS\u{1}t\u{2}KEYS\u{1}k\u{2}".utf8))
        #expect(h.reconsumeTimes == 2)
        #expect(h.unitMode)
        #expect(h.maxReconsumeTimes == 16)
        #expect(!h.batch)
    }

    @Test func jsonAndBinaryGiveTheSameHeader() throws {
        let recent = SendRequestHeader.RecentNames()
        let fromJSON = try SendRequestHeader(try Self.json(Self.javaV2), names: SendRequestHeader.shortNames, recent: recent)
        expectJavaV2(fromJSON)
        let pairs: [(String, String)] = [
            ("a", "PG"), ("b", "TopicWithALongerName"), ("c", "TBW102"), ("d", "8"), ("e", "3"), ("f", "4"),
            ("g", "1700000000123"), ("h", "5"), ("i", "TAGS\u{1}t\u{2}KEYS\u{1}k\u{2}"), ("j", "2"), ("k", "true"),
            ("l", "16"), ("m", "false"), ("n", "broker-a"),
        ]
        expectJavaV2(try SendRequestHeader(try Self.binary(pairs), names: SendRequestHeader.shortNames, recent: recent))
        expectJavaV2(try SendRequestHeader(try Self.binary(pairs), names: SendRequestHeader.shortNames))
        // The recent names: a repeated topic comes back with the cached bytes, a new one replaces them.
        let other = try SendRequestHeader(try Self.json(#""b":"Other","e":"0","a":"PG2""#),
                                          names: SendRequestHeader.shortNames, recent: recent)
        #expect(other.topic == "Other" && other.topicUTF8 == Array("Other".utf8) && other.producerGroup == "PG2")
        #expect(other.defaultTopic == nil && other.defaultTopicQueueNums == 4 && other.maxReconsumeTimes == nil)
        #expect(other.properties.isEmpty && !other.unitMode && other.sysFlag == 0)
    }

    @Test func javaNamesAndAwkwardFields() throws {
        // C++ 1.2.3: SEND_MESSAGE with Java names, numbers as JSON numbers, bools as "0"/"1", an escaped key.
        let f = try Self.json(#""producerGroup":"PG","\u0074opic":"T","queueId":2,"sysFlag":0,"#
            + #""defaultTopicQueueNums":4,"bornTimestamp":"1700000000000","batch":"1","unitMode":"0","flag":0,"#
            + #""queueId":7,"maxReconsumeTimes":" 3 ""#, code: 10)
        let h = try SendRequestHeader(f, names: SendRequestHeader.javaNames)
        #expect(h.topic == "T")
        #expect(h.queueId == 7)  // a duplicated key: the last value, as the table keeps it
        #expect(h.batch && !h.unitMode)
        #expect(h.maxReconsumeTimes == 3)
    }

    @Test func missingAndInvalidNumbersAreRefusedWithJavasRemarks() throws {
        func remark(_ fields: String) throws -> String? {
            let table = try Self.json(fields)
            do throws(SendRequestHeader.Invalid) {
                _ = try SendRequestHeader(table, names: SendRequestHeader.shortNames)
                return nil
            } catch { return error.remark }
        }
        #expect(try remark(#""a":"PG","e":"1""#) == "the custom field <b> is null")
        #expect(try remark(#""b":"T""#) == "the custom field <e> is null")
        #expect(try remark(#""b":"T","e":"x1""#) == "the custom field <e> is not a valid number: x1")
        #expect(try remark(#""b":"T","e":99999999999"#) == "the custom field <e> is not a valid number: 99999999999")
        #expect(try remark(#""b":"T","e":0,"g":"99999999999999999999""#)
                == "the custom field <g> is not a valid number: 99999999999999999999")
        #expect(try remark(#""b":"T","e":0,"l":"""#) == "the custom field <l> is not a valid number: ")
        #expect(try remark(#""b":"T","e":0,"d":1.5"#) == "the custom field <d> is not a valid number: 1.5")
        #expect(try remark(#""b":"T","e":0"#) == nil)
    }
}
