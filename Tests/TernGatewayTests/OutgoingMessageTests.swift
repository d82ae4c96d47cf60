import Foundation
import HTTPTypes
import Testing
@testable import TernGateway

@Suite struct OutgoingMessageTests {
    @Test func headersCarryTagsKeysPropertiesDelayAndShardingKey() throws {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Tern-Tags")!] = "TagA"
        headers[HTTPField.Name("X-Tern-Keys")!] = "k1, k2"
        headers[HTTPField.Name("X-Tern-Delay-Level")!] = "3"
        headers[HTTPField.Name("X-Tern-Sharding-Key")!] = "order-7"
        headers[HTTPField.Name("X-Tern-Properties")!] = "orderId=42&note=a%26b%3Dc"
        let m = try OutgoingMessage.fromHeaders(headers, body: Array("hello".utf8))
        #expect(m == OutgoingMessage(body: Array("hello".utf8), tags: "TagA", keys: ["k1", "k2"],
                                     properties: ["orderId": "42", "note": "a&b=c"], delayLevel: 3, shardingKey: "order-7"))
        #expect(m.sendProperties == ["orderId": "42", "note": "a&b=c", "DELAY": "3"])
    }

    @Test func refusesReservedPropertiesBadDelayAndEmptyBodies() {
        var reserved = HTTPFields()
        reserved[HTTPField.Name("X-Tern-Properties")!] = "UNIQ_KEY=forged"
        #expect(throws: GatewayError.self) { try OutgoingMessage.fromHeaders(reserved, body: [1]) }
        var delay = HTTPFields()
        delay[HTTPField.Name("X-Tern-Delay-Level")!] = "19"
        #expect(throws: GatewayError.self) { try OutgoingMessage.fromHeaders(delay, body: [1]) }
        #expect(throws: GatewayError.self) { try OutgoingMessage.fromHeaders(HTTPFields(), body: []) }
        var malformed = HTTPFields()
        malformed[HTTPField.Name("X-Tern-Properties")!] = "novalue"
        #expect(throws: GatewayError.self) { try OutgoingMessage.fromHeaders(malformed, body: [1]) }
    }

    @Test func envelopeNeedsExactlyOneBody() throws {
        let text = try OutgoingMessage.fromJSON(Array(#"{"body":"hi","tags":"T","keys":["a"],"properties":{"p":"v"}}"#.utf8),
                                                batch: false, maxBatch: 1)
        #expect(text == [OutgoingMessage(body: Array("hi".utf8), tags: "T", keys: ["a"], properties: ["p": "v"])])
        let binary = try OutgoingMessage.fromJSON(Array(#"{"bodyBase64":"AAEC"}"#.utf8), batch: false, maxBatch: 1)
        #expect(binary[0].body == [0, 1, 2])
        for bad in [#"{"body":"a","bodyBase64":"AAEC"}"#, #"{"tags":"T"}"#, #"{"bodyBase64":"%%%"}"#, "[", #"{"body":"a","properties":{"bad name":"v"}}"#] {
            #expect(throws: GatewayError.self) { try OutgoingMessage.fromJSON(Array(bad.utf8), batch: false, maxBatch: 1) }
        }
    }

    @Test func batchIsANonEmptyBoundedArray() throws {
        let two = try OutgoingMessage.fromJSON(Array(#"[{"body":"a"},{"body":"b","tags":"x"}]"#.utf8), batch: true, maxBatch: 2)
        #expect(two.map(\.body) == [Array("a".utf8), Array("b".utf8)])
        #expect(throws: GatewayError.self) { try OutgoingMessage.fromJSON(Array("[]".utf8), batch: true, maxBatch: 2) }
        #expect(throws: GatewayError.self) {
            try OutgoingMessage.fromJSON(Array(#"[{"body":"a"},{"body":"b"},{"body":"c"}]"#.utf8), batch: true, maxBatch: 2)
        }
    }

    @Test func errorsMapBrokerCodesToStatuses() {
        #expect(GatewayError.status(ofBrokerCode: 215) == .tooManyRequests)
        #expect(GatewayError.status(ofBrokerCode: 2) == .tooManyRequests)
        #expect(GatewayError.status(ofBrokerCode: 16) == .forbidden)
        #expect(GatewayError.status(ofBrokerCode: 17) == .notFound)
        #expect(GatewayError.status(ofBrokerCode: 13) == .badRequest)
        #expect(GatewayError.status(ofBrokerCode: 14) == .serviceUnavailable)
        let body = String(decoding: GatewayError(.forbidden, code: 16, "no").jsonBody, as: UTF8.self)
        #expect(body.contains(#""code":16"#) && body.contains(#""error":"no""#))
    }
}
