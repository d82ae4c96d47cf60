import Logging
import NIOCore
import TernProtocol

/// Placeholder: registration with name servers (REGISTER_BROKER every 30 s, UNREGISTER_BROKER at stop).
final class NameServerRegistrar: Sendable {
    init(context: BrokerContext) {}
    /// Registers now and then every `registerNameServerPeriod`.
    func start() {}
    /// Registers at once (after a topic change).
    func registerNow() {}
    /// Unregisters from every name server and stops the timer.
    func shutdown() async {}
}
