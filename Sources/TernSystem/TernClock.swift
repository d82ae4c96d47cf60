import Synchronization

/// The one time source of storage and broker, injected so that tests of timers, leases and retention move
/// time instead of sleeping. `SystemClock` reads the OS; `ManualClock` only moves when told.
///
/// Two scales, never mixed: wall milliseconds for what is stored or shown (store times, due times,
/// retention ages) and monotonic nanoseconds for intervals and deadlines.
public protocol TernClock: Sendable {
    /// CLOCK_REALTIME in ms since the epoch.
    func wallMillis() -> Int64
    /// CLOCK_MONOTONIC in ns (arbitrary origin, never goes back).
    func monotonicNanos() -> UInt64
}

/// The operating system's clocks (`Clock`).
public struct SystemClock: TernClock {
    public init() {}
    public func wallMillis() -> Int64 { Clock.wallMillis() }
    public func monotonicNanos() -> UInt64 { Clock.monotonicNanos() }
}

extension TernClock where Self == SystemClock {
    public static var system: SystemClock { SystemClock() }
}

/// A clock for tests: starts at the given instants and moves only by `advance`.
public final class ManualClock: TernClock {
    private let now: Mutex<(wall: Int64, mono: UInt64)>

    public init(wallMillis: Int64 = 1_700_000_000_000, monotonicNanos: UInt64 = 1_000_000_000) {
        now = Mutex((wallMillis, monotonicNanos))
    }

    public func wallMillis() -> Int64 { now.withLock { $0.wall } }
    public func monotonicNanos() -> UInt64 { now.withLock { $0.mono } }

    /// Moves both clocks forward by `millis`.
    public func advance(millis: Int64) {
        precondition(millis >= 0, "a clock never goes back")
        now.withLock { $0.wall += millis; $0.mono += UInt64(millis) * 1_000_000 }
    }
}
