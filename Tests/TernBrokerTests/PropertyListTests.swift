import NIOCore
@testable import TernBroker
@testable import TernClient
import TernMessage
import TernRemoting
import Testing

/// "Last property wins", one way: `PropertyList` in the broker, the store's transaction derivation and the
/// client's inbound pushes.
@Suite struct PropertyListTests {
    static let duplicated = MessageProperties.encode([("A", "1"), ("B", "2"), ("A", "3"), ("C", "4")])

    @Test func aRepeatedNameKeepsItsFirstPositionAndItsLastValue() {
        var list = PropertyList(Self.duplicated)
        #expect(list.entries.map { "\($0.0)=\($0.1)" } == ["A=3", "B=2", "C=4"])
        #expect(list["A"] == "3" && list["Z"] == nil)
        list["B"] = nil
        list["D"] = "5"
        list["A"] = "6"
        #expect(list.encoded == MessageProperties.encode([("A", "6"), ("C", "4"), ("D", "5")]))
        #expect(list.dictionary == ["A": "6", "C": "4", "D": "5"])
        let raw = Self.duplicated.withUnsafeBytes { bytes in
            MessageProperties.value(of: "A", in: bytes).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(raw == PropertyList(Self.duplicated)["A"], "the raw hot-path lookup agrees")
    }

    @Test func clientPushesUseTheLastValue() {
        let fields: RemotingExtFields = ["topic": "T", "properties": String(decoding: Self.duplicated, as: UTF8.self)]
        let message = ClientInbound.replyMessage(RemotingCommand(code: ClientInbound.pushReplyMessageToClient, extFields: fields))
        #expect(message.properties == ["A": "3", "B": "2", "C": "4"])
    }
}
