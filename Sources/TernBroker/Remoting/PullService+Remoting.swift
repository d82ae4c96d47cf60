import NIOCore
import TernRemoting
import TernTransport

extension PullService {
    /// PULL_MESSAGE (11) as a remoting adapter: decode the header → `pull` → the responder answers.
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        let rejection: RequestRejection?
        switch PullRequestHeader.parse(request.extFields) {
        case .failure(let r): rejection = r
        case .success(let header):
            rejection = pull(PullRequest(header: header, consumerAddress: responder.connection.remoteAddress), waiter: responder)
        }
        if let rejection { responder.respond(code: rejection.code, remark: rejection.remark) }
    }
}

/// A remoting pull is answered on its connection; the four offset fields are always present (C++ parses them
/// for codes 0, 19, 20 and 21).
extension RemotingResponder: PullWaiter {
    var eventLoop: any EventLoop { connection.channel.eventLoop }
    var channelId: Int { connection.id }

    /// The four offset fields from a shared table: no field table and no String per answer.
    static let pullAnswer = RemotingExtFields.Template([
        "suggestWhichBrokerId": .decimal(slot: 0), "nextBeginOffset": .decimal(slot: 1),
        "minOffset": .decimal(slot: 2), "maxOffset": .decimal(slot: 3),
    ])

    func holdAnswersUntilTaskEnds() { connection.coalesceWritesUntilTaskEnds() }

    func deliver(_ outcome: PullOutcome) {
        var fields = RemotingExtFields(Self.pullAnswer, words: UInt64(bitPattern: outcome.suggestWhichBrokerId),
                                       UInt64(bitPattern: outcome.nextBeginOffset), UInt64(bitPattern: outcome.minOffset),
                                       UInt64(bitPattern: outcome.maxOffset))
        outcome.trace?.write(into: &fields)
        respond(code: outcome.code, remark: outcome.remark, extFields: fields, body: outcome.body)
    }
}
