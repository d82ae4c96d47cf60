import Synchronization
import TernSystem

/// Paces a background job whose cost grows with the topic table (rewriting topics.json, registering the table
/// with the name servers) under a stream of changes: after a run that took d, the next starts no sooner than
/// `spacing`·d later, so the job uses at most 1/(1 + spacing) of a core however fast topics are created, and
/// the changes made meanwhile go into that next run.
///
/// Durations are measured on the monotonic clock (a job's cost is real time whatever clock the broker uses).
final class WorkPacer: Sendable {
    let spacing: UInt64
    private let nextStartNanos = Atomic<UInt64>(0)

    init(spacing: UInt64 = 2) { self.spacing = spacing }

    /// Milliseconds until the next run may start; 0 when it may start now.
    var delayMillis: Int64 {
        let next = nextStartNanos.load(ordering: .relaxed), now = Clock.monotonicNanos()
        return next > now ? Int64((next - now + 999_999) / 1_000_000) : 0
    }

    /// Runs `body` and sets when the next run may start.
    func run<T>(_ body: () async throws -> T) async rethrows -> T {
        let start = Clock.monotonicNanos()
        defer {
            let end = Clock.monotonicNanos()
            nextStartNanos.store(end + (end - start) * spacing, ordering: .relaxed)
        }
        return try await body()
    }
}
