import Synchronization

/// A token bucket holding at most one second of tokens (at least 1), refilled continuously, plus a circuit
/// breaker: once a request finds it empty, every request is refused for `breakerNanos` without consulting it.
/// Tokens may go negative (`charge`): pull limiting charges after the fact and waits the debt out.
struct TokenBucket: Sendable {
    var rate: Double
    var tokens: Double
    var last: UInt64
    var breakerUntil: UInt64 = 0

    init(rate: Double, now: UInt64) {
        self.rate = rate
        self.tokens = Self.capacity(rate)
        self.last = now
    }

    static func capacity(_ rate: Double) -> Double { max(rate, 1) }

    mutating func refill(_ now: UInt64) {
        guard now > last else { return }
        tokens = min(Self.capacity(rate), tokens + Double(now - last) / 1e9 * rate)
        last = now
    }

    enum Decision: Equatable, Sendable {
        case admitted
        /// The bucket ran dry now; the breaker has just opened.
        case limited
        /// Refused by the open breaker; nanoseconds left.
        case breakerOpen(UInt64)
    }

    mutating func acquire(_ now: UInt64, breakerNanos: UInt64) -> Decision {
        if now < breakerUntil { return .breakerOpen(breakerUntil - now) }
        refill(now)
        if tokens >= 1 {
            tokens -= 1
            return .admitted
        }
        breakerUntil = now + breakerNanos
        return .limited
    }

    /// Nanoseconds until the bucket holds a whole token again (0 when it does).
    mutating func debtNanos(_ now: UInt64) -> UInt64 {
        refill(now)
        return tokens >= 1 ? 0 : UInt64(((1 - tokens) / rate * 1e9).rounded(.up))
    }

    mutating func charge(_ count: Int, _ now: UInt64) {
        refill(now)
        // Debt is bounded to one second's worth so one huge answer cannot stall the group for long.
        tokens = max(tokens - Double(count), -Self.capacity(rate))
    }
}

/// Named token buckets (per topic or per group) with a default rate and per-name overrides, changeable at
/// runtime. Names without a rate (0) are unlimited and cost one dictionary lookup under the lock.
final class RateLimiter: Sendable {
    struct State: Sendable {
        var defaultRate: Double
        var rates: [String: Double]
        var buckets: [String: TokenBucket] = [:]
    }
    private let state: Mutex<State>
    let breakerNanos: UInt64
    /// False while no name and no default has a limit: the hot path then skips the lock.
    private let active = Atomic<Bool>(false)

    init(defaultRate: Double, rates: [String: Double], breakerMillis: Int64) {
        state = Mutex(State(defaultRate: defaultRate, rates: rates))
        breakerNanos = UInt64(max(0, breakerMillis)) * 1_000_000
        active.store(defaultRate > 0 || rates.values.contains { $0 > 0 }, ordering: .relaxed)
    }

    var isActive: Bool { active.load(ordering: .relaxed) }

    private static func rate(_ s: State, _ name: String) -> Double { s.rates[name] ?? s.defaultRate }

    /// The rate applying to `name` (0 = unlimited).
    func rate(for name: String) -> Double { state.withLock { Self.rate($0, name) } }

    func acquire(_ name: String, now: UInt64) -> TokenBucket.Decision {
        guard isActive else { return .admitted }
        let breaker = breakerNanos
        return state.withLock { s in
            let r = Self.rate(s, name)
            guard r > 0 else { return .admitted }
            var b = s.buckets[name] ?? TokenBucket(rate: r, now: now)
            let d = b.acquire(now, breakerNanos: breaker)
            s.buckets[name] = b
            return d
        }
    }

    /// Pull limiting: nil when `name` is unlimited; else the delay owed before its next request may run and
    /// the whole tokens available now (what that request may take).
    func pullAllowance(_ name: String, now: UInt64) -> (delayNanos: UInt64, tokens: Int)? {
        guard isActive else { return nil }
        return state.withLock { s in
            let r = Self.rate(s, name)
            guard r > 0 else { return nil }
            var b = s.buckets[name] ?? TokenBucket(rate: r, now: now)
            let d = b.debtNanos(now)
            s.buckets[name] = b
            return (d, max(0, Int(b.tokens)))
        }
    }

    func charge(_ name: String, count: Int, now: UInt64) {
        guard isActive, count > 0 else { return }
        state.withLock { s in
            let r = Self.rate(s, name)
            guard r > 0 else { return }
            var b = s.buckets[name] ?? TokenBucket(rate: r, now: now)
            b.charge(count, now)
            s.buckets[name] = b
        }
    }

    /// Sets (rate > 0), lifts (0) or, for `name == nil`, sets the default; resets the affected buckets.
    func setRate(_ rate: Double, for name: String?) {
        state.withLock { s in
            if let name {
                s.rates[name] = rate
                s.buckets[name] = nil
            } else {
                s.defaultRate = rate
                s.buckets = [:]
            }
            active.store(s.defaultRate > 0 || s.rates.values.contains { $0 > 0 }, ordering: .relaxed)
        }
    }

    var snapshot: (defaultRate: Double, rates: [String: Double]) { state.withLock { ($0.defaultRate, $0.rates) } }
}
