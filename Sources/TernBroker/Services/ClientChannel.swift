import NIOCore
import TernRemoting

/// A connected client as the broker's services see it, whatever carries it: the way back to a producer
/// (transaction check-back), a requester (request / reply push) or a consumer (NOTIFY_CONSUMER_IDS_CHANGED).
/// The client registry keeps these, not transport connections.
///
/// Thread-safety: every member may be called from any thread; sends never block.
protocol ClientChannel: AnyObject, Sendable {
    /// Unique per channel for the broker's lifetime (a reconnecting client gets a new one).
    var id: Int { get }
    /// The peer, `ip:port`.
    var remoteAddress: String { get }
    var isActive: Bool { get }
    /// A request to the client; the future fails on timeout or when the channel closes.
    func request(_ request: RemotingCommand, timeout: TimeAmount) -> EventLoopFuture<RemotingCommand>
    /// A one-way message to the client (no answer expected).
    func sendOneway(_ request: RemotingCommand)
    /// Closes the channel (an expired client, as Java does).
    func close()
}
