import Synchronization
import TernSystem

/// Fencing for a lease holder: it may act as leader (acknowledge writes) only while ``holds`` is true.
///
/// The arithmetic, on the holder's monotonic clock:
///
///     validUntil = sent + TTL − margin
///
/// where `sent` is when the last successful grant or keep-alive REQUEST was sent (before etcd could receive
/// it) and TTL is the lease's TTL etcd answered. etcd sets the lease's expiry to (its receive time + TTL),
/// which is later than `sent + TTL`; etcd leader changes only extend leases. A rival replica can be elected
/// only after the lease expired (the leader key is deleted with it) and it saw that, so the rival's first
/// acknowledgement comes after `sent + TTL`, and the holder's last one before `sent + TTL − margin`. The margin
/// covers what the arithmetic does not: the rate difference of the two machines' clocks over one TTL, and the
/// time from the check to the answer leaving the process. A failed or late keep-alive never extends
/// `validUntil`, so a holder cut off from etcd stops on its own, with no message from anybody.
public final class LeaseFence: Sendable {
    public let clock: any TernClock
    public let marginNanos: UInt64
    /// 0: not holding.
    private let validUntil = Atomic<UInt64>(0)

    public init(clock: any TernClock, margin: Duration) {
        self.clock = clock
        self.marginNanos = UInt64(margin.components.seconds) * 1_000_000_000
            + UInt64(margin.components.attoseconds / 1_000_000_000)
    }

    /// The lease was granted or renewed by a request sent at monotonic `sentAt` and etcd answered `ttlSeconds`.
    public func renewed(sentAt: UInt64, ttlSeconds: Int64) {
        let ttl = UInt64(max(0, ttlSeconds)) * 1_000_000_000
        guard ttl > marginNanos else { return }
        let until = sentAt + ttl - marginNanos
        validUntil.max(until, ordering: .acquiringAndReleasing)
    }

    /// Stops holding now (resigned, lost the key, or the lease expired).
    public func drop() {
        validUntil.store(0, ordering: .releasing)
    }

    /// Whether the holder may still act as leader now.
    public var holds: Bool { clock.monotonicNanos() < validUntil.load(ordering: .acquiring) }

    /// Nanoseconds left before the fence closes (0 when closed).
    public var remainingNanos: UInt64 {
        let until = validUntil.load(ordering: .acquiring), now = clock.monotonicNanos()
        return until > now ? until - now : 0
    }
}
