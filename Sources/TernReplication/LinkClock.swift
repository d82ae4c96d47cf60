import Synchronization

/// When a link last heard from its peer, and (master side) the peer's last reported offset: shared by a link's
/// reader, ticker and writer tasks (a `Mutex` itself cannot be captured by their closures).
final class LinkClock: Sendable {
    private let state = Mutex<(offset: Int64?, heard: ContinuousClock.Instant)>((nil, .now))

    /// The peer's last report (nil before its first).
    var reported: Int64? { state.withLock { $0.offset } }
    var silence: Duration { state.withLock { $0.heard }.duration(to: .now) }

    func heard(offset: Int64? = nil) {
        state.withLock { s in
            s.heard = .now
            if let offset { s.offset = offset }
        }
    }
}
