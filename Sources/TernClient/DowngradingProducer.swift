import NIOCore
import Synchronization

/// Where a ``DowngradingProducer`` sends when the primary cluster keeps failing.
public struct DowngradeOptions: Sendable {
    /// The standby cluster's name servers (`;`- or `,`-separated, like ``ClientOptions/init(nameServer:)``).
    public var standbyNameServer: String
    /// Consecutive failed sends on the primary (each after the producer's own retries) that switch sending
    /// to the standby.
    public var failureThreshold: Int
    /// How long sends stay on the standby before the primary is tried again.
    public var primaryRetryAfter: TimeAmount

    public init(standbyNameServer: String, failureThreshold: Int = 3, primaryRetryAfter: TimeAmount = .seconds(30)) {
        precondition(failureThreshold >= 1, "the threshold counts failures: at least 1")
        self.standbyNameServer = standbyNameServer
        self.failureThreshold = failureThreshold
        self.primaryRetryAfter = primaryRetryAfter
    }
}

/// A producer that downgrades to a standby cluster (NetEase's path for a whole cluster going down): it sends
/// to the primary cluster until `failureThreshold` sends in a row failed there, sends the failing message and
/// the following ones to the standby cluster for `primaryRetryAfter`, then tries the primary again (one more
/// failure there switches back at once). Consumers must read both clusters; ordering across the switch is not
/// kept.
///
/// Thread-safety: the failure count, the switch deadline and the counters sit behind one mutex; sends run
/// concurrently.
public final class DowngradingProducer: Sendable {
    public let primary: Producer
    public let standby: Producer
    public let downgrade: DowngradeOptions
    private let standbyRuntime: ClientRuntime
    private struct State {
        var consecutiveFailures = 0
        /// Sending goes to the standby until then (nil: to the primary).
        var standbyUntil: NIODeadline?
        var sentToPrimary = 0
        var sentToStandby = 0
    }
    private let state = Mutex(State())

    /// The standby cluster's runtime copies `runtime`'s options except the name servers; it is shut down by
    /// ``shutdown()`` (the primary runtime stays the caller's).
    public init(runtime: ClientRuntime, options: ProducerOptions = ProducerOptions(), downgrade: DowngradeOptions) {
        var standbyOptions = runtime.options
        standbyOptions.nameServers = ClientOptions(nameServer: downgrade.standbyNameServer).nameServers
        standbyRuntime = ClientRuntime(options: standbyOptions, group: runtime.group)
        primary = Producer(runtime: runtime, options: options)
        standby = Producer(runtime: standbyRuntime, options: options)
        self.downgrade = downgrade
    }

    /// Sends acknowledged by each cluster so far.
    public var sent: (primary: Int, standby: Int) { state.withLock { ($0.sentToPrimary, $0.sentToStandby) } }

    /// Whether sends go to the standby now.
    public var isDowngraded: Bool { state.withLock { s in s.standbyUntil.map { NIODeadline.now() < $0 } ?? false } }

    public func send(topic: String, body: [UInt8], tags: String? = nil, keys: [String] = [],
                     properties: [String: String] = [:]) async throws -> SendResult {
        if !isDowngraded {
            do {
                let result = try await primary.send(topic: topic, body: body, tags: tags, keys: keys, properties: properties)
                state.withLock { s in
                    s.consecutiveFailures = 0
                    s.standbyUntil = nil
                    s.sentToPrimary += 1
                }
                return result
            } catch {
                let switched = state.withLock { s -> Bool in
                    s.consecutiveFailures += 1
                    guard s.consecutiveFailures >= downgrade.failureThreshold else { return false }
                    s.standbyUntil = .now() + downgrade.primaryRetryAfter
                    return true
                }
                guard switched else { throw error }
            }
        }
        let result = try await standby.send(topic: topic, body: body, tags: tags, keys: keys, properties: properties)
        state.withLock { $0.sentToStandby += 1 }
        return result
    }

    /// Shuts the standby runtime down (the primary runtime is the caller's).
    public func shutdown() {
        standbyRuntime.shutdown()
    }
}
