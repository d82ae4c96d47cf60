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

    func deliver(_ outcome: PullOutcome) {
        var fields = RemotingExtFields()
        fields.set("suggestWhichBrokerId", outcome.suggestWhichBrokerId)
        fields.set("nextBeginOffset", outcome.nextBeginOffset)
        fields.set("minOffset", outcome.minOffset)
        fields.set("maxOffset", outcome.maxOffset)
        outcome.trace?.write(into: &fields)
        respond(code: outcome.code, remark: outcome.remark, extFields: fields, body: outcome.body)
    }
}
