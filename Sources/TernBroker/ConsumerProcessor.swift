import TernRemoting
import TernTransport

/// Placeholder: heartbeats, pull with long polling, offsets and locks land with the consumer-side work.
final class ConsumerProcessor: BrokerProcessor {
    let context: BrokerContext
    init(context: BrokerContext) { self.context = context }
    var codes: [Int] { [] }
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {}
}
