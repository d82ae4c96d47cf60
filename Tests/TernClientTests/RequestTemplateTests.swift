import Foundation
import NIOCore
@testable import TernClient
import TernMessage
import TernProtocol
import TernRemoting
import Testing

/// Requests from templates (a producer's sends, a queue's pulls) are the field-by-field requests' bytes: same
/// fields, order and text, in JSON and ROCKETMQ binary headers.
@Suite struct RequestTemplateTests {
    /// `send`'s request frame, with its header from the template and field by field (no template, the
    /// properties as bytes).
    static func frames(_ send: PreparedSend, options: ProducerOptions, type: RemotingSerializeType,
                       queueId: Int32 = 5, born: Int64 = 1_733_563_200_123) throws -> (templated: [UInt8], fieldByField: [UInt8]) {
        var plain = send
        plain.properties = send.propertyBytes
        plain.template = nil
        func frame(_ s: PreparedSend) throws -> [UInt8] {
            let command = RemotingCommand(code: options.useV2Header ? RequestCode.sendMessageV2 : RequestCode.sendMessage,
                                          opaque: 42, extFields: s.header(queueId: queueId, options: options, bornTimestamp: born),
                                          body: s.body, serializeType: type)
            var buffer = ByteBuffer()
            try RemotingFrame.write(command, into: &buffer)
            return Array(buffer.readableBytesView)
        }
        return (try frame(send), try frame(plain))
    }

    static func producer(_ configure: (inout ProducerOptions) -> Void = { _ in }) -> Producer {
        var options = ProducerOptions()
        configure(&options)
        return Producer(runtime: ClientRuntime(options: ClientOptions(nameServer: "127.0.0.1:1")), options: options)
    }

    @Test(arguments: [RemotingSerializeType.json, .rocketmq], [true, false])
    func templatedHeaderIsTheFieldByFieldHeader(type: RemotingSerializeType, v2: Bool) throws {
        for (group, topic, flag) in [("tern-bench-e2e", "BenchE2E", Int32(0)), ("PG \"q\" \\ é", "T\u{1}ü", Int32(-7))] {
            let producer = Self.producer {
                $0.group = group
                $0.useV2Header = v2
                $0.compressBodyOver = 8
            }
            defer { producer.runtime.shutdown() }
            for body in ["small", String(repeating: "compressed ", count: 4)] {
                let send = try producer.prepareSingle(topic: topic, body: ByteBuffer(string: body), tags: nil, keys: [],
                                                      properties: [:], flag: flag)
                #expect(send.template != nil)
                for (queueId, born) in [(Int32(0), Int64(0)), (Int32.max, Int64.max), (-1, 1_733_563_200_123)] {
                    let (templated, fieldByField) = try Self.frames(send, options: producer.options, type: type,
                                                                    queueId: queueId, born: born)
                    #expect(templated == fieldByField)
                }
            }
        }
    }

    /// The header as the producer wrote it before templates: its properties are WAIT then the UNIQ_KEY.
    @Test func propertiesAreWaitThenTheUniqueKey() throws {
        let producer = Self.producer()
        defer { producer.runtime.shutdown() }
        let send = try producer.prepareSingle(topic: "T", body: ByteBuffer(string: "x"), tags: "", keys: [], properties: [:],
                                              flag: 0)
        let key = try #require(send.uniqueKey)
        #expect(send.propertyBytes == MessageProperties.encode([(MessageProperties.wait, "true"), (MessageProperties.uniqueKey, key)]))
        let fields = send.header(queueId: 3, options: producer.options, bornTimestamp: 99)
        #expect(fields["i"] == String(decoding: send.propertyBytes, as: UTF8.self))
        #expect(fields.keys == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "m"])
        #expect(fields["e"] == "3" && fields["g"] == "99" && fields["f"] == "0" && fields["m"] == "false")
        // 32 uppercase hex digits, the first four this process's pid.
        #expect(key.utf8.count == 32 && key.allSatisfy { "0123456789ABCDEF".contains($0) })
        #expect(UInt16(key.prefix(4), radix: 16) == UInt16(truncatingIfNeeded: ProcessInfo.processInfo.processIdentifier))
    }

    /// A send changed after it was prepared (a transaction's half message sets a sysFlag bit) is no longer
    /// what its template describes: its header is built field by field, with the same properties.
    @Test func changedSendLeavesItsTemplate() throws {
        let producer = Self.producer()
        defer { producer.runtime.shutdown() }
        var send = try producer.prepareSingle(topic: "T", body: ByteBuffer(string: "x"), tags: nil, keys: [], properties: [:],
                                              flag: 0)
        let properties = send.propertyBytes
        send.sysFlag |= SysFlag.transactionPrepared
        let fields = send.header(queueId: 1, options: producer.options)
        #expect(fields["f"] == String(SysFlag.transactionPrepared))
        #expect(fields["i"] == String(decoding: properties, as: UTF8.self))
        // Sends with user properties never take a template.
        let tagged = try producer.prepareSingle(topic: "T", body: ByteBuffer(string: "x"), tags: "A", keys: [],
                                                properties: [:], flag: 0)
        #expect(tagged.template == nil)
    }

    /// A pull from a queue's template is the field-by-field pull request's bytes, with and without a commit
    /// offset, held or not, in both header types.
    @Test(arguments: [RemotingSerializeType.json, .rocketmq])
    func pullTemplateIsTheFieldByFieldPull(type: RemotingSerializeType) throws {
        var options = ClientOptions(nameServer: "127.0.0.1:1")
        options.headerEncoding = type == .json ? .json : .binary
        let runtime = ClientRuntime(options: options)
        defer { runtime.shutdown() }
        let consumer = PullConsumer(runtime: runtime, group: "g \"é\"")
        let queue = MessageQueue(topic: "BenchE2E", brokerName: "broker-a", queueId: 7)
        func frame(_ command: RemotingCommand) throws -> [UInt8] {
            var c = command
            c.opaque = 11
            var buffer = ByteBuffer()
            try RemotingFrame.write(c, into: &buffer)
            return Array(buffer.readableBytesView)
        }
        for (maxNums, suspend, subscription) in [(64, Int64(1000), "*"), (32, 0, "TagA || TagB")] {
            let template = consumer.pullRequestTemplate(queue: queue, maxNums: maxNums, subscription: subscription,
                                                        suspendMillis: suspend)
            for (offset, commit) in [(Int64(0), Int64?.none), (123_456_789, 123_456_789), (.max, 0), (-1, nil)] {
                let plain = consumer.pullRequest(queue: queue, offset: offset, maxNums: maxNums, subscription: subscription,
                                                 suspendMillis: suspend, commitOffset: commit)
                #expect(try frame(template.request(offset: offset, commitOffset: commit)) == (try frame(plain)))
            }
        }
    }
}
