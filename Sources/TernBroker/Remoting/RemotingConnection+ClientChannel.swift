import TernTransport

/// A remoting connection is the channel of the clients that heartbeat on it.
extension RemotingConnection: ClientChannel {}
