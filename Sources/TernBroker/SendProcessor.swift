import TernRemoting
import TernTransport

/// Placeholder: send (10, 310, 320) lands with the producer-side work.
final class SendProcessor: BrokerProcessor {
    let context: BrokerContext
    init(context: BrokerContext) { self.context = context }
    var codes: [Int] { [] }
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {}
}
