import NIOCore
import TernProtocol
import TernRemoting

/// A group's dead letters on one broker.
public struct DeadLetters: Sendable {
    public var brokerAddress: String
    public var messages: [ReceivedMessage]
    /// `%DLQ%<group>` queue range and how far dead letters were re-sent.
    public var minOffset: Int64
    public var maxOffset: Int64
    public var resentOffset: Int64
}

extension AdminClient {
    /// Dead letters of `group` on every master (`all`: from the start of the queue, else only those not re-sent).
    public func deadLetters(group: String, all: Bool = false, maxNum: Int = 100) async throws -> [DeadLetters] {
        var out: [DeadLetters] = []
        for address in try await masterAddresses(cluster: nil) {
            var f = RemotingExtFields()
            f["group"] = group
            f.set("maxNum", maxNum)
            if all { f.set("offset", Int64(0)) }
            let r = try await runtime.invoke(address, runtime.makeRequest(code: DeadLetterRequestCode.queryDeadLetters, extFields: f)).get()
                .expectSuccess(from: address)
            out.append(DeadLetters(brokerAddress: address, messages: try RecordDecoder.messages(in: r.body),
                                   minOffset: r.extFields.int64("minOffset") ?? 0, maxOffset: r.extFields.int64("maxOffset") ?? 0,
                                   resentOffset: r.extFields.int64("resentOffset") ?? 0))
        }
        return out
    }

    /// Re-sends dead letters of `group` to their original topics on every master: one message (`msgId`: offset
    /// id or UNIQ_KEY) or all not re-sent yet. Returns (re-sent, skipped) summed over brokers.
    public func resendDeadLetters(group: String, msgId: String? = nil) async throws -> (resent: Int64, skipped: Int64) {
        var resent: Int64 = 0, skipped: Int64 = 0, found = false
        for address in try await masterAddresses(cluster: nil) {
            var f = RemotingExtFields()
            f["group"] = group
            if let msgId { f["msgId"] = msgId }
            let r = try await runtime.invoke(address, runtime.makeRequest(code: DeadLetterRequestCode.resendDeadLetters, extFields: f)).get()
            if msgId != nil && r.code == ResponseCode.queryNotFound { continue }
            _ = try r.expectSuccess(from: address)
            found = true
            resent += r.extFields.int64("resent") ?? 0
            skipped += r.extFields.int64("skipped") ?? 0
        }
        if let msgId, !found { throw ClientError.invalidArgument("no dead letter \(msgId) for group \(group)") }
        return (resent, skipped)
    }
}
