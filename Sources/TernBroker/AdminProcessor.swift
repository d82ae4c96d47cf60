import TernRemoting
import TernTransport

/// Placeholder: query by key / id, topic admin land with the producer-side work.
final class AdminProcessor: BrokerProcessor {
    let context: BrokerContext
    init(context: BrokerContext) { self.context = context }
    var codes: [Int] { [] }
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {}
}
